package notifications

import "strings"

// MaskEmail hides an email address for logs: the first character of the
// local part and the whole domain stay, "jane.doe@example.com" becomes
// "j***@example.com". Anything that is not an address becomes "***".
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "***"
	}
	first := []rune(s[:at])[0]
	return string(first) + "***" + s[at:]
}

// minPhoneToReveal is the shortest number MaskPhone shows any part of: below
// it, the 6 characters kept would give most of the number away.
const minPhoneToReveal = 8

// MaskPhone hides a phone number for logs: the first 2 and the last 4
// characters stay, every other one becomes '*', "+15559876543" becomes
// "+1******6543". Numbers shorter than 8 characters are masked entirely.
func MaskPhone(s string) string {
	r := []rune(s)
	if len(r) < minPhoneToReveal {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-4:])
}

// MaskName hides a person's name for logs and the ops UI: each word keeps
// its first character, "Ada Lovelace" becomes "A*** L***". Blank becomes "".
func MaskName(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = string([]rune(w)[0]) + "***"
	}
	return strings.Join(words, " ")
}
