package transforms

import "github.com/sluicehq/sluice/pkg/connect"

// fieldVersion is the version the field transformations report.
const fieldVersion = "1.0.0"

// fieldPlugins lists the transformations that reshape keys and values:
// InsertField, ReplaceField, MaskField, ValueToKey, ExtractField,
// HoistField, Cast, Flatten and SetSchemaMetadata, under Connect's class
// names.
func fieldPlugins() []connect.Plugin {
	var plugins []connect.Plugin
	for _, p := range []struct {
		simple string
		newT   func(target) connect.Transformation
	}{
		{"InsertField", newInsertField},
		{"ReplaceField", newReplaceField},
		{"MaskField", newMaskField},
		{"ExtractField", newExtractField},
		{"HoistField", newHoistField},
		{"Cast", newCast},
		{"Flatten", newFlatten},
		{"SetSchemaMetadata", newSetSchemaMetadata},
	} {
		plugins = append(plugins, keyValuePlugins(p.simple, p.newT)...)
	}
	return append(plugins, connect.Plugin{
		Class:             fieldClassPrefix + "ValueToKey",
		Kind:              connect.KindTransformation,
		Version:           fieldVersion,
		NewTransformation: func() connect.Transformation { return &ValueToKey{} },
	})
}

// Compile-time checks that each field transformation is a Transformation.
var (
	_ connect.Transformation = (*InsertField)(nil)
	_ connect.Transformation = (*ReplaceField)(nil)
	_ connect.Transformation = (*MaskField)(nil)
	_ connect.Transformation = (*ValueToKey)(nil)
	_ connect.Transformation = (*ExtractField)(nil)
	_ connect.Transformation = (*HoistField)(nil)
	_ connect.Transformation = (*Cast)(nil)
	_ connect.Transformation = (*Flatten)(nil)
	_ connect.Transformation = (*SetSchemaMetadata)(nil)
)
