package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// SchemaVersion is the only stack file version faas-cli accepts.
const SchemaVersion = "1.0"

// ProviderName is the only provider.name faas-cli accepts.
const ProviderName = "openfaas"

// nameRE is a DNS-1123 label, what OpenFaaS providers accept as a service name
// (a subset of faas-provider's route expression [-a-zA-Z_0-9.]+).
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Stack is a parsed stack file.
type Stack struct {
	// File is the path the stack was read from ("" when parsed from bytes).
	File string `yaml:"-"`
	// Dir is the directory relative paths (handler, copy, environment_file,
	// ./template) resolve against: the stack file's directory.
	Dir string `yaml:"-"`

	Version       string              `yaml:"version,omitempty"`
	Provider      Provider            `yaml:"provider"`
	Configuration Configuration       `yaml:"configuration,omitempty"`
	Functions     map[string]Function `yaml:"functions"`

	// Warnings lists fields faas-cli would ignore (unknown keys), each naming
	// the file, line and field.
	Warnings []string `yaml:"-"`
}

// Provider is the stack's provider section.
type Provider struct {
	Name    string `yaml:"name"`
	Gateway string `yaml:"gateway,omitempty"`
	Network string `yaml:"network,omitempty"`
}

// Configuration is the stack's configuration section.
type Configuration struct {
	Templates []TemplateSource `yaml:"templates,omitempty"`
	// Copy lists paths (relative to the stack's directory) copied into each
	// function's build context at build/<fn>/function/<path>.
	Copy []string `yaml:"copy,omitempty"`
}

// TemplateSource names a template and where faas-cli would pull it from.
type TemplateSource struct {
	Name   string `yaml:"name"`
	Source string `yaml:"source,omitempty"`
}

// Resources are limits or requests (memory and cpu only, as faas-cli sends).
type Resources struct {
	Memory string `yaml:"memory,omitempty"`
	CPU    string `yaml:"cpu,omitempty"`
}

// Function is one entry of functions: in the stack file.
type Function struct {
	// Name is the key under functions:.
	Name string `yaml:"-"`

	Lang                   string            `yaml:"lang,omitempty"`
	Handler                string            `yaml:"handler,omitempty"`
	Image                  string            `yaml:"image,omitempty"`
	FProcess               string            `yaml:"fprocess,omitempty"`
	Namespace              string            `yaml:"namespace,omitempty"`
	Environment            map[string]string `yaml:"environment,omitempty"`
	EnvironmentFile        []string          `yaml:"environment_file,omitempty"`
	Secrets                []string          `yaml:"secrets,omitempty"`
	Constraints            []string          `yaml:"constraints,omitempty"`
	Labels                 map[string]string `yaml:"labels,omitempty"`
	Annotations            map[string]string `yaml:"annotations,omitempty"`
	Limits                 *Resources        `yaml:"limits,omitempty"`
	Requests               *Resources        `yaml:"requests,omitempty"`
	ReadOnlyRootFilesystem bool              `yaml:"readonly_root_filesystem,omitempty"`
	SkipBuild              bool              `yaml:"skip_build,omitempty"`
	BuildOptions           []string          `yaml:"build_options,omitempty"`
	BuildArgs              map[string]string `yaml:"build_args,omitempty"`
	BuildSecrets           map[string]string `yaml:"build_secrets,omitempty"`
	Platforms              string            `yaml:"platforms,omitempty"`
}

// Options tune Parse. The zero value substitutes from the process environment.
type Options struct {
	// NoEnvsubst disables ${VAR} substitution (faas-cli --envsubst=false).
	NoEnvsubst bool
	// Lookup resolves variables for substitution; nil means os.LookupEnv.
	Lookup func(name string) (string, bool)
}

// Load reads and parses a stack file; Dir is set to the file's directory.
func Load(path string, opts Options) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack file: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("stack file %s: %w", path, err)
	}
	s, err := Parse(data, path, opts)
	if err != nil {
		return nil, err
	}
	s.Dir = filepath.Dir(abs)
	return s, nil
}

// Parse parses stack file contents; name is used in error messages and as
// File. Dir is left empty (the caller sets it, or relative paths resolve
// against the working directory).
func Parse(data []byte, name string, opts Options) (*Stack, error) {
	if name == "" {
		name = "stack.yml"
	}
	src := data
	if !opts.NoEnvsubst {
		lookup := opts.Lookup
		if lookup == nil {
			lookup = os.LookupEnv
		}
		out, err := Envsubst(string(data), lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src = []byte(out)
	}

	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", name, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty stack file", name)
	}
	s := &Stack{File: name}
	if err := root.Content[0].Decode(s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.Warnings = unknownFields(name, root.Content[0])

	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for k, f := range s.Functions {
		f.Name = k
		if f.Lang == "Dockerfile" {
			f.Lang = "dockerfile"
		}
		s.Functions[k] = f.withoutEmpty()
	}
	return s, nil
}

func (s *Stack) validate() error {
	if s.Version != "" && s.Version != SchemaVersion {
		return fmt.Errorf("version: %q is not supported; the only valid version is %q", s.Version, SchemaVersion)
	}
	if s.Provider.Name != ProviderName {
		return fmt.Errorf("provider.name: %q is not supported; it must be %q", s.Provider.Name, ProviderName)
	}
	if len(s.Functions) == 0 {
		return errors.New("functions: no functions defined")
	}
	for i, t := range s.Configuration.Templates {
		if t.Name == "" {
			return fmt.Errorf("configuration.templates[%d].name: required", i)
		}
	}
	for i, p := range s.Configuration.Copy {
		if err := checkRelative(p); err != nil {
			return fmt.Errorf("configuration.copy[%d]: %w", i, err)
		}
	}
	var errs []error
	for _, name := range s.Names() {
		f := s.Functions[name]
		if err := validateFunction(name, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func validateFunction(name string, f Function) error {
	where := fmt.Sprintf("function %q", name)
	if !nameRE.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("%s: invalid name: use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit", where)
	}
	if f.Image == "" {
		return fmt.Errorf("%s: image: required", where)
	}
	if !f.SkipBuild {
		if f.Lang == "" {
			return fmt.Errorf("%s: lang: required unless skip_build is true", where)
		}
		if f.Handler == "" {
			return fmt.Errorf("%s: handler: required unless skip_build is true", where)
		}
	}
	for i, e := range f.EnvironmentFile {
		if e == "" {
			return fmt.Errorf("%s: environment_file[%d]: empty path", where, i)
		}
	}
	for i, sec := range f.Secrets {
		if !nameRE.MatchString(sec) {
			return fmt.Errorf("%s: secrets[%d]: invalid secret name %q", where, i, sec)
		}
	}
	return nil
}

// checkRelative rejects copy paths that escape the stack's directory, as
// faas-cli does ("forbidden path appears to be outside of the build context").
func checkRelative(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("%q must be relative to the stack file's directory", p)
	}
	c := filepath.Clean(p)
	if c == "." {
		return fmt.Errorf("%q is the whole project; name a file or folder inside it", p)
	}
	if c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%q is outside the stack file's directory", p)
	}
	return nil
}

// Names returns the function names, sorted.
func (s *Stack) Names() []string {
	names := make([]string, 0, len(s.Functions))
	for k := range s.Functions {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Path resolves a path from the stack file against Dir.
func (s *Stack) Path(p string) string {
	if filepath.IsAbs(p) || s.Dir == "" {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// Env returns the function's environment as faas-cli deploy sends it:
// the environment_file entries in order, then environment on top.
func (s *Stack) Env(fn string) (map[string]string, error) {
	f, ok := s.Functions[fn]
	if !ok {
		return nil, fmt.Errorf("%s: no function %q", s.File, fn)
	}
	env := map[string]string{}
	for i, file := range f.EnvironmentFile {
		data, err := os.ReadFile(s.Path(file))
		if err != nil {
			return nil, fmt.Errorf("%s: function %q: environment_file[%d]: %w", s.File, fn, i, err)
		}
		var ef struct {
			Environment map[string]string `yaml:"environment"`
		}
		if err := yaml.Unmarshal(data, &ef); err != nil {
			return nil, fmt.Errorf("%s: function %q: environment_file[%d] %s: %w", s.File, fn, i, file, err)
		}
		for k, v := range ef.Environment {
			env[k] = v
		}
	}
	for k, v := range f.Environment {
		env[k] = v
	}
	return env, nil
}

// known lists the keys each mapping may hold; anything else is a warning.
var known = map[string][]string{
	"":              {"version", "provider", "configuration", "functions"},
	"provider":      {"name", "gateway", "network"},
	"configuration": {"templates", "copy"},
	"function": {"lang", "handler", "image", "fprocess", "namespace", "environment",
		"environment_file", "secrets", "constraints", "labels", "annotations", "limits",
		"requests", "readonly_root_filesystem", "skip_build", "build_options", "build_args",
		"build_secrets", "platforms"},
}

func unknownFields(file string, doc *yaml.Node) []string {
	var out []string
	check := func(n *yaml.Node, kind, where string) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			found := false
			for _, want := range known[kind] {
				if k.Value == want {
					found = true
					break
				}
			}
			if !found {
				out = append(out, fmt.Sprintf("%s:%d: unknown field %q in %s (ignored)", file, k.Line, k.Value, where))
			}
		}
	}
	check(doc, "", "the top level")
	if v := mapValue(doc, "provider"); v != nil {
		check(v, "provider", "provider")
	}
	if v := mapValue(doc, "configuration"); v != nil {
		check(v, "configuration", "configuration")
	}
	if fns := mapValue(doc, "functions"); fns != nil && fns.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(fns.Content); i += 2 {
			check(fns.Content[i+1], "function", fmt.Sprintf("function %q", fns.Content[i].Value))
		}
	}
	return out
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Template is a template's template.yml.
type Template struct {
	Language       string        `yaml:"language"`
	FProcess       string        `yaml:"fprocess"`
	BuildOptions   []BuildOption `yaml:"build_options,omitempty"`
	WelcomeMessage string        `yaml:"welcome_message,omitempty"`
	HandlerFolder  string        `yaml:"handler_folder,omitempty"`
	MountSSH       bool          `yaml:"mount_ssh,omitempty"`
}

// BuildOption is a named set of extra packages in template.yml.
type BuildOption struct {
	Name     string   `yaml:"name"`
	Packages []string `yaml:"packages"`
}

// LoadTemplate reads <dir>/template.yml.
func LoadTemplate(dir string) (*Template, error) {
	file := filepath.Join(dir, "template.yml")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var t Template
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if t.Language == "" {
		return nil, fmt.Errorf("%s: language: required", file)
	}
	return &t, nil
}

// withoutEmpty makes the function's empty collections nil: "labels: {}" and
// no labels mean the same, and the stack re-encodes (omitempty) as the latter.
func (f Function) withoutEmpty() Function {
	f.Environment = nilIfEmptyMap(f.Environment)
	f.Labels = nilIfEmptyMap(f.Labels)
	f.Annotations = nilIfEmptyMap(f.Annotations)
	f.BuildArgs = nilIfEmptyMap(f.BuildArgs)
	f.BuildSecrets = nilIfEmptyMap(f.BuildSecrets)
	f.EnvironmentFile = nilIfEmptySlice(f.EnvironmentFile)
	f.Secrets = nilIfEmptySlice(f.Secrets)
	f.Constraints = nilIfEmptySlice(f.Constraints)
	f.BuildOptions = nilIfEmptySlice(f.BuildOptions)
	return f
}

func nilIfEmptyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilIfEmptySlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
