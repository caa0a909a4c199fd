package asff

import "unicode/utf8"

const ellipsis = "…"

// truncateRunes cuts s to at most max runes, ending with marker when it had to cut. It never
// splits a multi-byte character, because Security Hub rejects invalid UTF-8 and counts limits in
// characters.
func truncateRunes(s string, max int, marker string) string {
	if max <= 0 {
		return ""
	}
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - utf8.RuneCountInString(marker)
	if keep < 0 {
		keep, marker = max, ""
	}
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + marker
		}
		n++
	}
	return s + marker
}

func toValidUTF8(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, r) // invalid bytes decode to utf8.RuneError, which is valid to encode
	}
	return string(out)
}
