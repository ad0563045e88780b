package config

import (
	"errors"
	"testing"
)

func TestValidators(t *testing.T) {
	positive := LambdaValidator(func(name string, value any) error {
		if n, _ := value.(int); n <= 0 {
			return errors.New("must be positive")
		}
		return nil
	}, "positive integer")

	tests := []struct {
		name      string
		validator Validator
		value     any
		wantErr   string // "" when valid
	}{
		{name: "at least ok", validator: AtLeast(1), value: 1},
		{name: "at least low", validator: AtLeast(1), value: 0,
			wantErr: "Invalid value 0 for configuration k: Value must be at least 1"},
		{name: "at least null", validator: AtLeast(1), value: nil,
			wantErr: "Invalid value null for configuration k: Value must be non-null"},
		{name: "between ok long", validator: Between(1, 10), value: int64(10)},
		{name: "between high", validator: Between(1, 10), value: 11,
			wantErr: "Invalid value 11 for configuration k: Value must be no more than 10"},
		{name: "between fractional double", validator: Between(0, 0.5), value: 0.75,
			wantErr: "Invalid value 0.75 for configuration k: Value must be no more than 0.5"},
		{name: "range not a number", validator: AtLeast(0), value: "x",
			wantErr: "Invalid value x for configuration k: Expected a number, but it was a string"},
		{name: "valid string ok", validator: ValidString("a", "b"), value: "b"},
		{name: "valid string wrong case", validator: ValidString("a", "b"), value: "A",
			wantErr: "Invalid value A for configuration k: String must be one of: a, b"},
		{name: "valid string null", validator: ValidString("a", "b"), value: nil,
			wantErr: "Invalid value null for configuration k: String must be one of: a, b"},
		{name: "case insensitive ok", validator: CaseInsensitiveValidString("none", "all"), value: "All"},
		{name: "case insensitive bad", validator: CaseInsensitiveValidString("none", "all"), value: "some",
			wantErr: "Invalid value some for configuration k: String must be one of (case insensitive): NONE, ALL"},
		{name: "non-empty ok", validator: NonEmptyString(), value: "x"},
		{name: "non-empty null passes", validator: NonEmptyString(), value: nil},
		{name: "non-empty empty", validator: NonEmptyString(), value: "",
			wantErr: "Invalid value  for configuration k: String must be non-empty"},
		{name: "non-null ok", validator: NonNullValidator{}, value: ""},
		{name: "non-null null", validator: NonNullValidator{}, value: nil,
			wantErr: "Invalid value null for configuration k: entry must be non null"},
		{name: "valid list ok", validator: ValidList("a", "b"), value: []string{"b", "a"}},
		{name: "valid list empty ok", validator: ValidList("a", "b"), value: []string{}},
		{name: "valid list bad item", validator: ValidList("a", "b"), value: []string{"a", "c"},
			wantErr: "Invalid value c for configuration k: String must be one of: a, b"},
		{name: "regex ok", validator: Regex(), value: `^topic-(\d+)$`},
		{name: "regex bad", validator: Regex(), value: "a(b",
			wantErr: "Invalid value a(b for configuration k: Invalid regex: error parsing regexp: missing closing ): `a(b`"},
		{name: "composite first error wins", validator: Composite(NonNullValidator{}, AtLeast(5)), value: nil,
			wantErr: "Invalid value null for configuration k: entry must be non null"},
		{name: "composite second", validator: Composite(NonNullValidator{}, AtLeast(5)), value: 4,
			wantErr: "Invalid value 4 for configuration k: Value must be at least 5"},
		{name: "lambda plain error wrapped", validator: positive, value: -1,
			wantErr: "Invalid value -1 for configuration k: must be positive"},
		{name: "func returning InvalidValue kept", validator: ValidatorFunc(func(name string, value any) error {
			return InvalidValue(name, "[redacted]", "custom")
		}), value: 1, wantErr: "Invalid value [redacted] for configuration k: custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.validator.Validate("k", tt.value)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error; want %q", tt.wantErr)
			}
			requireEqual(t, validatorMessage("k", tt.value, err), tt.wantErr)
		})
	}
}

func TestValidatorDescriptions(t *testing.T) {
	tests := []struct {
		name      string
		validator Validator
		want      string
	}{
		{name: "at least", validator: AtLeast(1), want: "[1,...]"},
		{name: "between", validator: Between(1, 10), want: "[1,...,10]"},
		{name: "at most", validator: Range{Max: new(10.0)}, want: "[...,10]"},
		{name: "unbounded", validator: Range{}, want: "[...]"},
		{name: "fractional bound", validator: AtLeast(0.5), want: "[0.5,...]"},
		{name: "valid string", validator: ValidString("a", "b"), want: "[a, b]"},
		{name: "case insensitive", validator: CaseInsensitiveValidString("none", "all", "NONE"), want: "(case insensitive) [NONE, ALL]"},
		{name: "non-empty", validator: NonEmptyString(), want: "non-empty string"},
		{name: "non-null", validator: NonNullValidator{}, want: "non-null string"},
		{name: "valid list", validator: ValidList("x", "y"), want: "[x, y]"},
		{name: "regex", validator: Regex(), want: "valid regex"},
		{name: "composite", validator: Composite(NonEmptyString(), ValidString("a")), want: "non-empty string, [a]"},
		{name: "composite skips undescribed", validator: Composite(ValidatorFunc(nil), AtLeast(0)), want: "[0,...]"},
		{name: "lambda", validator: LambdaValidator(nil, "anything"), want: "anything"},
		{name: "func", validator: ValidatorFunc(nil), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, Key{Validator: tt.validator}.ValidValues(), tt.want)
		})
	}
}
