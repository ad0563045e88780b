package config

import "fmt"

// Result is what Validate found for one key, Kafka's ConfigValue.
type Result struct {
	// Name is the key's name.
	Name string
	// Value is the parsed value (or the default) rendered as Kafka's
	// convertToString does: trimmed, lists joined with ",", passwords
	// "[hidden]". It is nil for null, including a value that did not parse
	// and an absent required key, as in Kafka.
	Value *string
	// Errors holds every message about the key, in the order found; empty
	// when the value is valid.
	Errors []string
	// Recommended lists suggested values. Sluice has no recommenders yet, so
	// it is always empty.
	Recommended []string
	// Visible is whether a UI should show the key. It is true for declared
	// keys.
	Visible bool
}

// Validate checks props against every key, then the Def's rules, and
// returns one Result per key in declaration order (Internal keys included),
// Kafka's ConfigDef.validate. It never stops at the first error: a key's parse error or absence and its
// validator's complaint about the resulting null are both reported, as in
// Kafka. Properties that are not declared are ignored.
//
// Like Kafka, it adds a Result with Visible false for each name listed in a
// Dependents field but not declared.
func (d *Def) Validate(props map[string]string) []Result {
	evals := d.evaluate(props)
	undefined := d.undefinedDependents()
	results := make([]Result, 0, len(evals)+len(undefined))
	for _, e := range evals {
		results = append(results, Result{
			Name:        e.key.Name,
			Value:       formatValue(e.key.Type, e.value),
			Errors:      append([]string{}, e.errors...),
			Recommended: []string{},
			Visible:     true,
		})
	}
	for _, name := range undefined {
		results = append(results, Result{
			Name:        name,
			Errors:      []string{undefinedDependentMessage(name)},
			Recommended: []string{},
		})
	}
	return results
}

// Parse parses and validates props, Kafka's ConfigDef.parse. Absent keys take
// their defaults; properties that are not declared are kept only in
// Values.Originals.
//
// Unlike Kafka's parse, which throws at the first problem, the error lists
// every problem Validate would report, so it is always a *ValidationError
// and Parse returns a nil *Values with it.
func (d *Def) Parse(props map[string]string) (*Values, error) {
	evals := d.evaluate(props)
	var problems []Problem
	parsed := make(map[string]any, len(evals))
	for _, e := range evals {
		for _, msg := range e.errors {
			problems = append(problems, Problem{Key: e.key.Name, Message: msg})
		}
		parsed[e.key.Name] = e.value
	}
	for _, name := range d.undefinedDependents() {
		problems = append(problems, Problem{Key: name, Message: undefinedDependentMessage(name)})
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	originals := make(map[string]string, len(props))
	for k, v := range props {
		originals[k] = v
	}
	return &Values{def: d, parsed: parsed, originals: originals}, nil
}

// evaluation is one key's parsed value and the problems found with it.
type evaluation struct {
	key    Key
	value  any
	errors []string
}

// evaluate parses and validates every declared key, Kafka's
// parseForValidate.
func (d *Def) evaluate(props map[string]string) []evaluation {
	evals := make([]evaluation, 0, len(d.keys))
	for _, k := range d.keys {
		e := evaluation{key: k}
		raw, present := props[k.Name]
		switch {
		case present:
			v, err := parseString(k.Type, raw)
			if err != nil {
				// Kafka reports the value as given, before trimming.
				e.errors = append(e.errors, InvalidValue(k.Name, raw, err.Error()).Error())
			} else {
				e.value = v
			}
		case k.Required():
			e.errors = append(e.errors, missingMessage(k.Name))
		default:
			e.value = cloneKey(k).Default
		}
		// Kafka runs the validator even on the null left by a missing or
		// unparsable value, so Range adds "Value must be non-null".
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, e.value); err != nil {
				e.errors = append(e.errors, validatorMessage(k.Name, e.value, err))
			}
		}
		evals = append(evals, e)
	}
	if len(d.rules) == 0 {
		return evals
	}
	parsed := make(map[string]any, len(evals))
	for _, e := range evals {
		parsed[e.key.Name] = e.value
	}
	v := &Values{def: d, parsed: parsed, originals: props}
	for _, rule := range d.rules {
		for _, p := range rule(v) {
			i, ok := d.index[p.Key]
			if !ok {
				panic(fmt.Sprintf("config: a rule reports configuration %q, which the Def does not declare", p.Key))
			}
			evals[i].errors = append(evals[i].errors, p.Message)
		}
	}
	return evals
}
