package license

import (
	"fmt"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	s, tr := testSigner(b), testTrust(b)
	l := signed(b, s, permanent("bench", "ipservices"))
	b.ReportAllocs()
	for b.Loop() {
		if err := tr.Verify(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse parses a file of 100 licenses.
func BenchmarkParse(b *testing.B) {
	s := testSigner(b)
	ls := make([]*License, 100)
	for i := range ls {
		l := permanent(fmt.Sprintf("bench%04d", i), "ipservices")
		l.Comment = fmt.Sprintf("rack %d, row \"B\"", i)
		ls[i] = signed(b, s, l)
	}
	data := Encode(ls...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := Parse(data)
		if err != nil || len(got) != len(ls) {
			b.Fatal(len(got), err)
		}
	}
}
