package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// maxDepth bounds how deeply multipart bodies may nest.
const maxDepth = 5

// parse fills m's header and body fields from m.Data.
func parse(m *Message) error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return fmt.Errorf("decode subject: %w", err)
	}
	m.MessageID = msg.Header.Get("Message-ID")
	if from := msg.Header.Get("From"); from != "" {
		a, err := mail.ParseAddress(from)
		if err != nil {
			return fmt.Errorf("parse From %q: %w", from, err)
		}
		m.From = a.Address
	}
	if to := msg.Header.Get("To"); to != "" {
		as, err := mail.ParseAddressList(to)
		if err != nil {
			return fmt.Errorf("parse To %q: %w", to, err)
		}
		for _, a := range as {
			m.To = append(m.To, a.Address)
		}
	}
	return readBody(m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
}

// readBody reads one entity with the given Content-Type and transfer
// encoding into m.Text or m.HTML, descending into multipart entities.
func readBody(m *Message, contentType, encoding string, r io.Reader, depth int) error {
	mediaType, params := "text/plain", map[string]string{}
	if contentType != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(contentType); err != nil {
			return fmt.Errorf("parse Content-Type %q: %w", contentType, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth {
			return fmt.Errorf("multipart nested deeper than %d", maxDepth)
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			// NextPart undoes quoted-printable and drops that header.
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mediaType, err)
			}
			if err := readBody(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // skips CR and LF
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}
