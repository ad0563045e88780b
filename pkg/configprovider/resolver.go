package configprovider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Worker property names read by NewResolver, as in Kafka Connect's
// WorkerConfig (AbstractConfig.CONFIG_PROVIDERS_CONFIG).
const (
	ProvidersConfig = "config.providers"
	providersPrefix = "config.providers."
)

// Resolver replaces config provider references in configurations, as
// Kafka's ConfigTransformer does for a Connect worker. It is safe for
// concurrent use once NewResolver has returned; Close ends its use.
type Resolver struct {
	providers map[string]Provider
}

// NewResolver builds and configures the providers a worker configuration
// names: config.providers=a,b lists them (spaces around names are ignored),
// config.providers.<name>.class picks each one's class, and
// config.providers.<name>.param.<k> passes parameter k to its Configure.
// A worker without config.providers gets a Resolver that resolves nothing.
// Errors name the provider and the class or parameter at fault.
func NewResolver(workerProps map[string]string) (*Resolver, error) {
	return newResolver(workerProps, builtins())
}

func newResolver(workerProps map[string]string, classes map[string]func() Provider) (*Resolver, error) {
	r := &Resolver{providers: map[string]Provider{}}
	var errs []error
	for _, name := range strings.Split(workerProps[ProvidersConfig], ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, dup := r.providers[name]; dup {
			continue
		}
		classKey := providersPrefix + name + ".class"
		class := strings.TrimSpace(workerProps[classKey])
		if class == "" {
			errs = append(errs, fmt.Errorf("configprovider: provider %q: %s is not set", name, classKey))
			continue
		}
		newProvider, ok := classes[class]
		if !ok {
			errs = append(errs, fmt.Errorf("configprovider: provider %q: %w %q", name, ErrUnknownClass, class))
			continue
		}
		paramPrefix := providersPrefix + name + ".param."
		params := map[string]string{}
		for k, v := range workerProps {
			if p, ok := strings.CutPrefix(k, paramPrefix); ok {
				params[p] = v
			}
		}
		p := newProvider()
		if err := p.Configure(params); err != nil {
			errs = append(errs, fmt.Errorf("configprovider: provider %q (%s): %w", name, class, err))
			continue
		}
		r.providers[name] = p
	}
	if len(errs) > 0 {
		_ = r.Close()
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Providers returns the sorted names of the configured providers.
func (r *Resolver) Providers() []string {
	names := make([]string, 0, len(r.providers))
	for n := range r.providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookup is one provider call: Kafka calls ConfigProvider.get once per
// provider and path with the set of keys referenced there.
type lookup struct {
	provider, path string
}

// Resolve returns a copy of props with every ${provider:[path:]key}
// replaced, exactly as Kafka's ConfigTransformer.transform does:
//
//   - each provider is asked once per path, for all the keys referenced at
//     that path (Provider.Get);
//   - a reference to a provider that is not configured is left as written;
//   - a reference whose key the provider did not return (a missing file key,
//     an unset environment variable) is left as written;
//   - a reference the provider's allow setting does not cover (a path
//     outside allowed.paths, a secret outside allowed.prefixes, a variable
//     outside allowlist.pattern; with the setting unset, every reference)
//     fails with a *NotAllowedError naming the worker setting, where Kafka
//     would leave it as written or read it;
//   - a value is resolved once: a resolved value that itself contains a
//     reference is not resolved again.
//
// A provider that fails (I/O, an AWS error, a path it does not support) makes
// Resolve fail with a *ResolveError per failing provider and path, joined;
// errors never contain a resolved value. props is not modified.
func (r *Resolver) Resolve(ctx context.Context, props map[string]string) (map[string]string, error) {
	out, err := r.ResolveAll(ctx, props)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ResolveAll is Resolve for several configurations at once (a lease's
// connector and task configurations, which mostly repeat each other): each
// provider is asked once per path for the keys of all of them. It returns
// the resolved configurations in order.
func (r *Resolver) ResolveAll(ctx context.Context, configs ...map[string]string) ([]map[string]string, error) {
	keys := map[lookup]map[string]bool{}
	configKeys := map[lookup]map[string]bool{}
	for _, props := range configs {
		for _, ref := range References(props) {
			if _, ok := r.providers[ref.Provider]; !ok {
				continue
			}
			l := lookup{ref.Provider, ref.Path}
			if keys[l] == nil {
				keys[l] = map[string]bool{}
				configKeys[l] = map[string]bool{}
			}
			keys[l][ref.Key] = true
			configKeys[l][ref.ConfigKey] = true
		}
	}

	order := make([]lookup, 0, len(keys))
	for l := range keys {
		order = append(order, l)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].provider != order[j].provider {
			return order[i].provider < order[j].provider
		}
		return order[i].path < order[j].path
	})

	found := map[lookup]map[string]string{}
	var errs []error
	for _, l := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := r.providers[l.provider].Get(ctx, l.path, sortedSet(keys[l]))
		if err != nil {
			r.nameSetting(l.provider, err)
			errs = append(errs, &ResolveError{
				Provider:   l.provider,
				Path:       l.path,
				ConfigKeys: sortedSet(configKeys[l]),
				Err:        err,
			})
			continue
		}
		found[l] = data
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	out := make([]map[string]string, len(configs))
	for i, props := range configs {
		out[i] = make(map[string]string, len(props))
		for k, v := range props {
			out[i][k] = r.replace(v, found)
		}
	}
	return out, nil
}

// replace is ConfigTransformer.replace.
func (r *Resolver) replace(value string, found map[lookup]map[string]string) string {
	matches := referencePattern.FindAllStringSubmatchIndex(value, -1)
	if len(matches) == 0 {
		return value
	}
	var b strings.Builder
	i := 0
	for _, m := range matches {
		provider := value[m[2]:m[3]]
		if _, ok := r.providers[provider]; !ok {
			continue
		}
		b.WriteString(value[i:m[0]])
		v, ok := found[lookup{provider, group(value, m, 3)}][value[m[8]:m[9]]]
		if ok {
			b.WriteString(v)
		} else {
			b.WriteString(value[m[0]:m[1]])
		}
		i = m[1]
	}
	b.WriteString(value[i:])
	return b.String()
}

// Close closes every provider and returns their errors, joined.
func (r *Resolver) Close() error {
	var errs []error
	for _, name := range r.Providers() {
		if err := r.providers[name].Close(); err != nil {
			errs = append(errs, fmt.Errorf("configprovider: closing provider %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
