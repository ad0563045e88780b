package config

// KeyInfo is one key as Kafka Connect's REST API describes it (ConfigKeyInfo):
// the elements of GET /connector-plugins/{plugin}/config and the
// "definition" of each entry of PUT /connector-plugins/{plugin}/config/validate.
// Fields are in the order Connect writes them. Connect writes the position in
// the group as "order", although its constructor reads "order_in_group".
type KeyInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	// DefaultValue is the default as Kafka's convertToString renders it
	// ("[hidden]" for passwords), or null when required or null.
	DefaultValue  *string `json:"default_value"`
	Importance    string  `json:"importance"`
	Documentation string  `json:"documentation"`
	// Group is null when the key has none.
	Group        *string  `json:"group"`
	Width        string   `json:"width"`
	DisplayName  string   `json:"display_name"`
	Dependents   []string `json:"dependents"`
	OrderInGroup int      `json:"order"`
}

// ValueInfo is one key's validation outcome as Connect's REST API writes it
// (ConfigValueInfo), the "value" of each validate entry.
type ValueInfo struct {
	Name string `json:"name"`
	// Value is the parsed value as Kafka's convertToString renders it
	// ("[hidden]" for passwords), or null.
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// Info pairs a key's definition and validation outcome (ConfigInfo).
type Info struct {
	Definition KeyInfo   `json:"definition"`
	Value      ValueInfo `json:"value"`
}

// Infos is the body of PUT /connector-plugins/{plugin}/config/validate
// (ConfigInfos).
type Infos struct {
	// Name is the connector plugin's name (Connect uses its class name).
	Name string `json:"name"`
	// ErrorCount is the number of error messages over all keys.
	ErrorCount int      `json:"error_count"`
	Groups     []string `json:"groups"`
	Configs    []Info   `json:"configs"`
}

// KeyInfos describes the keys that are not Internal, in declaration order,
// for GET /connector-plugins/{plugin}/config.
func (d *Def) KeyInfos() []KeyInfo {
	infos := make([]KeyInfo, 0, len(d.keys))
	for _, k := range d.keys {
		if !k.Internal {
			infos = append(infos, keyInfo(k))
		}
	}
	return infos
}

// Infos validates props and returns the body of
// PUT /connector-plugins/{plugin}/config/validate for the plugin called name,
// as Connect's AbstractHerder.generateResult builds it: one entry per
// Validate result, in declaration order, and the total number of errors.
func (d *Def) Infos(name string, props map[string]string) Infos {
	results := d.Validate(props)
	infos := Infos{Name: name, Groups: d.Groups(), Configs: make([]Info, 0, len(results))}
	for _, r := range results {
		var def KeyInfo
		if k, ok := d.Key(r.Name); ok {
			def = keyInfo(k)
		} else {
			// An undeclared dependent: Connect sends a null definition,
			// which this shape cannot hold; name it and leave the rest empty.
			def = KeyInfo{Name: r.Name, Dependents: []string{}}
		}
		infos.ErrorCount += len(r.Errors)
		infos.Configs = append(infos.Configs, Info{
			Definition: def,
			Value: ValueInfo{
				Name:              r.Name,
				Value:             r.Value,
				RecommendedValues: r.Recommended,
				Errors:            r.Errors,
				Visible:           r.Visible,
			},
		})
	}
	return infos
}

// keyInfo converts a key as Connect's AbstractHerder.convertConfigKey does.
func keyInfo(k Key) KeyInfo {
	info := KeyInfo{
		Name:          k.Name,
		Type:          k.Type.String(),
		Required:      k.Required(),
		Importance:    k.Importance.String(),
		Documentation: k.Doc,
		Width:         k.Width.String(),
		DisplayName:   k.DisplayName,
		Dependents:    append([]string{}, k.Dependents...),
		OrderInGroup:  k.OrderInGroup,
	}
	if !info.Required {
		info.DefaultValue = formatValue(k.Type, k.Default)
	}
	if k.Group != "" {
		group := k.Group
		info.Group = &group
	}
	return info
}
