package mqtt

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTimeout is returned when the broker does not answer within
// mqtt.connect.timeout.seconds.
var ErrTimeout = errors.New("no answer from the MQTT broker")

// ErrSubscriptionRefused is returned when the broker refuses a
// subscription (SUBACK 0x80), typically for want of authorisation.
var ErrSubscriptionRefused = errors.New("the MQTT broker refused the subscription")

// ErrConnectionLost is returned by Poll and Put after the connection
// dropped during a lease.
var ErrConnectionLost = errors.New("lost the connection to the MQTT broker")

// ConnectError is a failure to connect, naming the brokers and the client
// id. Err is paho's reason: "not Authorized", "bad user name or password",
// "identifier rejected", a network error.
type ConnectError struct {
	URIs     []string
	ClientID string
	Err      error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connecting to MQTT broker %s as client %q: %v", strings.Join(e.URIs, ","), e.ClientID, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }
