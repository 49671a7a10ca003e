package metrics

// Other is the label value recorded for anything outside a label's closed
// set (an unknown task type or queue, a non-standard HTTP method): label
// values never come from requests or task payloads as they are, so nobody
// can create new series.
const Other = "other"
