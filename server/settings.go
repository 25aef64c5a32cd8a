package server

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// setting is one declared field of Config (see Config for the tags).
type setting struct {
	key    string // the environment variable
	field  reflect.StructField
	value  reflect.Value // settable: the field in the Config walked
	def    string
	hasDef bool
}

// settings lists c's declared fields in declaration order: the fields of
// each part of Config that have an `env` tag.
func settings(c *Config) []setting {
	var out []setting
	parts := reflect.ValueOf(c).Elem()
	for i := range parts.NumField() {
		part := parts.Field(i)
		if part.Kind() != reflect.Struct {
			continue
		}
		for j := range part.NumField() {
			f := part.Type().Field(j)
			key := f.Tag.Get("env")
			if key == "" || key == "-" {
				continue
			}
			def, hasDef := f.Tag.Lookup("envDefault")
			out = append(out, setting{key: key, field: f, value: part.Field(j), def: def, hasDef: hasDef})
		}
	}
	return out
}

// parseSettings fills c from getenv with github.com/caarlos0/env, one part
// at a time (so that a parse error's field names one variable), then
// applies the declared checks to the values that came from the
// environment. Every error names its variable; all are returned.
func parseSettings(c *Config, getenv func(string) string) error {
	all := settings(c)
	vars := map[string]string{}
	for _, s := range all {
		v := strings.TrimSpace(getenv(s.key))
		if v == "" {
			continue
		}
		if s.field.Tag.Get("ms") == "true" && isDigits(v) {
			v += "ms" // Node's durations are plain milliseconds
		}
		vars[s.key] = v
	}
	var errs []error
	failed := map[string]bool{}
	parts := reflect.ValueOf(c).Elem()
	for i := range parts.NumField() {
		part := parts.Field(i)
		if part.Kind() != reflect.Struct {
			continue
		}
		err := env.ParseWithOptions(part.Addr().Interface(), env.Options{Environment: vars})
		var agg env.AggregateError
		if !errors.As(err, &agg) {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range agg.Errors {
			var pe env.ParseError
			if !errors.As(e, &pe) {
				errs = append(errs, e)
				continue
			}
			f, _ := part.Type().FieldByName(pe.Name)
			key := f.Tag.Get("env")
			failed[key] = true
			errs = append(errs, fmt.Errorf("%s: want %s, got %q", key, want(f), vars[key]))
		}
	}
	for _, s := range all {
		if s.value.Kind() == reflect.Slice {
			s.value.Set(reflect.ValueOf(tidyList(s.value.Interface().([]string))))
		}
		if _, set := vars[s.key]; set && !failed[s.key] && !s.allowed() {
			errs = append(errs, fmt.Errorf("%s: want %s, got %q", s.key, want(s.field), vars[s.key]))
		}
	}
	return errors.Join(errs...)
}

// allowed applies the declared checks (min, max, oneof) to s's value.
func (s setting) allowed() bool {
	tag := s.field.Tag
	switch v := s.value.Interface().(type) {
	case time.Duration:
		lo, _ := time.ParseDuration(tag.Get("min"))
		return v >= lo
	case int, int64:
		n := s.value.Int()
		lo, errLo := strconv.ParseInt(tag.Get("min"), 10, 64)
		hi, errHi := strconv.ParseInt(tag.Get("max"), 10, 64)
		return (errLo != nil || n >= lo) && (errHi != nil || n <= hi)
	case string:
		return tag.Get("oneof") == "" || oneOf(tag.Get("oneof"), v)
	case []string:
		for _, x := range v {
			if tag.Get("oneof") != "" && !oneOf(tag.Get("oneof"), x) {
				return false
			}
		}
	}
	return true
}

// want describes the values f accepts, for an error message.
func want(f reflect.StructField) string {
	tag := f.Tag
	switch f.Type {
	case reflect.TypeFor[time.Duration]():
		w := "a duration such as 30s"
		if tag.Get("ms") == "true" {
			w = "a duration such as 30s, or milliseconds"
		}
		return w + " of at least " + tag.Get("min")
	case reflect.TypeFor[slog.Level]():
		return "debug, info, warn or error"
	}
	switch f.Type.Kind() {
	case reflect.Int, reflect.Int64:
		return fmt.Sprintf("an integer in [%s, %s]", tag.Get("min"), tag.Get("max"))
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a comma-separated list of " + strings.Join(strings.Fields(tag.Get("oneof")), ", ")
	}
	return "one of " + strings.Join(strings.Fields(tag.Get("oneof")), ", ")
}

func oneOf(words, v string) bool {
	for _, w := range strings.Fields(words) {
		if v == w {
			return true
		}
	}
	return false
}

func isDigits(v string) bool {
	_, err := strconv.ParseUint(v, 10, 64)
	return err == nil
}

// tidyList trims the items of a comma-separated list and drops empty ones.
func tidyList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LogValue renders the config for the start-up log, one attribute per
// setting (the variable's name in lower case), secrets masked.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range settings(&c) {
		attrs = append(attrs, slog.String(strings.ToLower(s.key), s.logged()))
	}
	return slog.GroupValue(attrs...)
}

// logged is how the start-up log shows s's value.
func (s setting) logged() string {
	if s.value.IsZero() && !s.hasDef {
		return "(unset)"
	}
	switch v := s.value.Interface().(type) {
	case string:
		switch s.field.Tag.Get("secret") {
		case "true":
			return "set"
		case "url":
			return maskURI(v)
		}
		return v
	case []string:
		return strings.Join(v, ",")
	case slog.Level:
		return strings.ToLower(v.String())
	}
	return fmt.Sprint(s.value.Interface())
}
