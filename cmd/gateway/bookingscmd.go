package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/reserveeasy/gateway/bookings"
)

const bookingsUsage = `usage: gateway bookings create --name NAME --phone +E164 --email ADDRESS [--deposit N] [--currency C] [--status S]

Create a booking to test against, the way the ReserveEasy app does (it owns
the bookings table and inserts the customer fields, the status and the
deposit; the gateway writes the rest). Prints the new booking's id.`

var (
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	currencyCode = regexp.MustCompile(`^[a-z]{3}$`)
)

func runBookings(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(e.stdout, bookingsUsage)
			return flag.ErrHelp
		}
		return errors.New("usage: gateway bookings create --name NAME --phone +E164 --email ADDRESS [--deposit N] [--currency C]")
	}
	fs := e.flags("bookings create", bookingsUsage)
	name := fs.String("name", "", "customer name (required)")
	phone := fs.String("phone", "", "customer phone in E.164, e.g. +15551234567 (required)")
	email := fs.String("email", "", "customer email (required)")
	deposit := fs.Int64("deposit", 6000, "deposit in minor units (6000 = $60.00)")
	currency := fs.String("currency", "usd", "ISO currency code, lower case")
	status := fs.String("status", string(bookings.StatusPaymentPending), "payment_pending or confirmed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var problems []error
	if strings.TrimSpace(*name) == "" {
		problems = append(problems, errors.New("--name is required"))
	}
	if !e164.MatchString(*phone) {
		problems = append(problems, errors.New("--phone must be in E.164 form, e.g. +15551234567"))
	}
	if _, err := mail.ParseAddress(*email); err != nil || !strings.Contains(*email, "@") {
		problems = append(problems, errors.New("--email is not an email address"))
	}
	if *deposit <= 0 {
		problems = append(problems, errors.New("--deposit must be a positive amount in minor units"))
	}
	if !currencyCode.MatchString(*currency) {
		problems = append(problems, errors.New("--currency must be a three-letter code in lower case, e.g. usd"))
	}
	st := bookings.Status(*status)
	if st != bookings.StatusPaymentPending && st != bookings.StatusConfirmed {
		problems = append(problems, errors.New("--status must be payment_pending or confirmed"))
	}
	if err := errors.Join(problems...); err != nil {
		return err
	}
	t, err := openTools(ctx, e, false)
	if err != nil {
		return err
	}
	defer t.Close()
	b, err := t.store.CreateBooking(ctx, bookings.Booking{CustomerName: *name, CustomerPhone: *phone, CustomerEmail: *email,
		Status: st, DepositAmount: *deposit, DepositCurrency: *currency})
	if err != nil {
		return fmt.Errorf("create booking: %w", err)
	}
	fmt.Fprintf(e.stdout, "booking %d created: %s\n", b.ID, describe(b))
	return nil
}
