package udi

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures under testdata/udi")

// checkEqual fails the test with a line diff when got and want differ.
func checkEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	t.Errorf("%s differs (-want +got):\n%s", what, lineDiff(pretty(want), pretty(got)))
}

// pretty prints a value with one field per line, so diffs point at fields.
func pretty(v any) string {
	var b strings.Builder
	writeValue(&b, reflect.ValueOf(v), "")
	return b.String()
}

func writeValue(b *strings.Builder, v reflect.Value, indent string) {
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Kind() == reflect.Pointer {
			b.WriteString("&")
		}
		writeValue(b, v.Elem(), indent)
	case reflect.Struct:
		b.WriteString(v.Type().Name() + "{\n")
		for i := range v.NumField() {
			b.WriteString(indent + "  " + v.Type().Field(i).Name + ": ")
			writeValue(b, v.Field(i), indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "[% x]", v.Bytes())
			return
		}
		b.WriteString("[\n")
		for i := range v.Len() {
			fmt.Fprintf(b, "%s  [%d] ", indent, i)
			writeValue(b, v.Index(i), indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map{\n")
		for _, k := range keys {
			fmt.Fprintf(b, "%s  %v: ", indent, k)
			writeValue(b, v.MapIndex(k), indent+"  ")
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		if v.CanInterface() {
			fmt.Fprintf(b, "%v", v.Interface())
		} else {
			fmt.Fprintf(b, "%v", v)
		}
	}
}

// lineDiff is a longest-common-subsequence diff of two texts by line.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out.WriteString("  " + x[i] + "\n")
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out.WriteString("- " + x[i] + "\n")
			i++
		default:
			out.WriteString("+ " + y[j] + "\n")
			j++
		}
	}
	return out.String()
}

// checkErr checks that err is non-nil, matches every sentinel and
// mentions every fragment.
func checkErr(t *testing.T, err error, sentinels []error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", fragments)
	}
	for _, s := range sentinels {
		if !errors.Is(err, s) {
			t.Errorf("error %q does not wrap %v", err, s)
		}
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc", "a\nx\nc")
	want := "  a\n- b\n+ x\n  c\n"
	if got != want {
		t.Errorf("lineDiff = %q, want %q", got, want)
	}
}
