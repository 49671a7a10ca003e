package notifications

import (
	"fmt"
	"strings"
)

// currencySymbols are the currencies written with a symbol before the
// amount; every other one is written as "60.00 CHF".
var currencySymbols = map[string]string{
	"usd": "$",
	"eur": "€",
	"gbp": "£",
	"jpy": "¥",
}

// currencyDecimals lists the currencies whose minor unit is not a hundredth:
// Stripe's zero-decimal and three-decimal currencies.
var currencyDecimals = map[string]int{
	"bif": 0, "clp": 0, "djf": 0, "gnf": 0, "jpy": 0, "kmf": 0, "krw": 0,
	"mga": 0, "pyg": 0, "rwf": 0, "ugx": 0, "vnd": 0, "vuv": 0, "xaf": 0,
	"xof": 0, "xpf": 0,
	"bhd": 3, "jod": 3, "kwd": 3, "omr": 3, "tnd": 3,
}

// FormatAmount formats an amount in minor units (as Stripe sends it) of the
// ISO currency code currency, in any case: FormatAmount(6000, "usd") is
// "$60.00", (6000, "jpy") is "¥6000", (6000, "chf") is "60.00 CHF" and
// (6000, "kwd") is "6.000 KWD". Negative amounts get a leading minus.
func FormatAmount(amount int64, currency string) string {
	code := strings.ToLower(strings.TrimSpace(currency))
	decimals, ok := currencyDecimals[code]
	if !ok {
		decimals = 2
	}
	sign := ""
	abs := uint64(amount)
	if amount < 0 {
		sign = "-"
		abs = -abs // two's complement: right for math.MinInt64 too
	}
	number := fmt.Sprint(abs)
	if decimals > 0 {
		scale := uint64(1)
		for range decimals {
			scale *= 10
		}
		number = fmt.Sprintf("%d.%0*d", abs/scale, decimals, abs%scale)
	}
	if symbol, ok := currencySymbols[code]; ok {
		return sign + symbol + number
	}
	if code == "" {
		return sign + number
	}
	return sign + number + " " + strings.ToUpper(code)
}
