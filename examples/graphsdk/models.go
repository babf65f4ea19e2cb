// Package graphsdk drives the mock with the official Microsoft Graph SDK's
// HTTP stack (msgraph-sdk-go-core over kiota-http-go), as code written with
// the Graph SDKs would. The beta SDK's generated models are a 55 MB module,
// so the few models these requests need are written here, the way kiota
// generates them: Parsable types over the JSON the service sends.
package graphsdk

import (
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
)

// Connector is microsoft.graph.connector, as the SDK reads and writes it.
type Connector struct {
	ID, ExternalIP, MachineName, Status *string
}

// NewConnector is the ParsableFactory of Connector.
func NewConnector(serialization.ParseNode) (serialization.Parsable, error) { return &Connector{}, nil }

// Serialize implements serialization.Parsable.
func (c *Connector) Serialize(w serialization.SerializationWriter) error {
	for _, f := range []struct {
		key   string
		value *string
	}{{"id", c.ID}, {"externalIp", c.ExternalIP}, {"machineName", c.MachineName}, {"status", c.Status}} {
		if f.value != nil {
			if err := w.WriteStringValue(f.key, f.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetFieldDeserializers implements serialization.Parsable.
func (c *Connector) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	str := func(p **string) func(serialization.ParseNode) error {
		return func(n serialization.ParseNode) (err error) {
			*p, err = n.GetStringValue()
			return err
		}
	}
	return map[string]func(serialization.ParseNode) error{
		"id": str(&c.ID), "externalIp": str(&c.ExternalIP), "machineName": str(&c.MachineName), "status": str(&c.Status),
		"@odata.type": func(serialization.ParseNode) error { return nil },
	}
}

// ConnectorCollection is a page of connectors, as PageIterator reads it.
type ConnectorCollection struct {
	value    []*Connector
	nextLink *string
}

// NewConnectorCollection is the ParsableFactory of ConnectorCollection.
func NewConnectorCollection(serialization.ParseNode) (serialization.Parsable, error) {
	return &ConnectorCollection{}, nil
}

// GetValue is the page's connectors (PageIterator finds it by name).
func (c *ConnectorCollection) GetValue() []*Connector { return c.value }

// GetOdataNextLink is the link to the next page, if any.
func (c *ConnectorCollection) GetOdataNextLink() *string { return c.nextLink }

// Serialize implements serialization.Parsable; a page is only read.
func (c *ConnectorCollection) Serialize(serialization.SerializationWriter) error { return nil }

// GetFieldDeserializers implements serialization.Parsable.
func (c *ConnectorCollection) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			items, err := n.GetCollectionOfObjectValues(NewConnector)
			for _, item := range items {
				c.value = append(c.value, item.(*Connector))
			}
			return err
		},
		"@odata.nextLink": func(n serialization.ParseNode) (err error) {
			c.nextLink, err = n.GetStringValue()
			return err
		},
	}
}

// ODataError is the service's error envelope as the SDK maps a 4XX or 5XX
// answer: an error whose code and message the caller reads.
type ODataError struct {
	Code, Message string
	status        int
	Header        *abstractions.ResponseHeaders
}

var _ abstractions.ApiErrorable = (*ODataError)(nil)

// NewODataError is the ParsableFactory of ODataError, for the error mappings.
func NewODataError(serialization.ParseNode) (serialization.Parsable, error) {
	return &ODataError{}, nil
}

func (e *ODataError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.Code, e.Message) }

// SetStatusCode is how the request adapter tells the error its status.
func (e *ODataError) SetStatusCode(status int) { e.status = status }

// SetResponseHeaders is how the request adapter tells the error its headers.
func (e *ODataError) SetResponseHeaders(h *abstractions.ResponseHeaders) { e.Header = h }

// GetResponseHeaders is the answer's headers.
func (e *ODataError) GetResponseHeaders() *abstractions.ResponseHeaders { return e.Header }

// GetStatusCode is the answer's status.
func (e *ODataError) GetStatusCode() int { return e.status }

// Serialize implements serialization.Parsable; an error is only read.
func (e *ODataError) Serialize(serialization.SerializationWriter) error { return nil }

// GetFieldDeserializers implements serialization.Parsable: error.code and
// error.message; everything else of the envelope is left alone.
func (e *ODataError) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"error": func(n serialization.ParseNode) error {
			for _, f := range []struct {
				key string
				to  *string
			}{{"code", &e.Code}, {"message", &e.Message}} {
				child, err := n.GetChildNode(f.key)
				if err != nil || child == nil {
					continue
				}
				if v, err := child.GetStringValue(); err == nil && v != nil {
					*f.to = *v
				}
			}
			return nil
		},
	}
}

// ReferenceCreate is microsoft.graph.ReferenceCreate, the body the SDKs send
// to add a member by reference: {"@odata.id": "<URL of the connector>"}.
type ReferenceCreate struct {
	OdataID *string
}

// Serialize implements serialization.Parsable.
func (r *ReferenceCreate) Serialize(w serialization.SerializationWriter) error {
	return w.WriteStringValue("@odata.id", r.OdataID)
}

// GetFieldDeserializers implements serialization.Parsable; a reference is only sent.
func (r *ReferenceCreate) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{}
}

// ConnectorGroup is microsoft.graph.connectorGroup, as the SDK reads and
// writes it (the beta SDK's model writes the properties that are set).
type ConnectorGroup struct {
	ID, Name, Region, ConnectorGroupType *string
	IsDefault                            *bool
}

// NewConnectorGroup is the ParsableFactory of ConnectorGroup.
func NewConnectorGroup(serialization.ParseNode) (serialization.Parsable, error) {
	return &ConnectorGroup{}, nil
}

// Serialize implements serialization.Parsable.
func (g *ConnectorGroup) Serialize(w serialization.SerializationWriter) error {
	for _, f := range []struct {
		key   string
		value *string
	}{{"name", g.Name}, {"region", g.Region}} {
		if f.value != nil {
			if err := w.WriteStringValue(f.key, f.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetFieldDeserializers implements serialization.Parsable.
func (g *ConnectorGroup) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	str := func(p **string) func(serialization.ParseNode) error {
		return func(n serialization.ParseNode) (err error) {
			*p, err = n.GetStringValue()
			return err
		}
	}
	return map[string]func(serialization.ParseNode) error{
		"id": str(&g.ID), "name": str(&g.Name), "region": str(&g.Region), "connectorGroupType": str(&g.ConnectorGroupType),
		"isDefault": func(n serialization.ParseNode) (err error) {
			g.IsDefault, err = n.GetBoolValue()
			return err
		},
		"@odata.type": func(serialization.ParseNode) error { return nil },
	}
}

// ConnectorGroupCollection is a page of connector groups (memberOf).
type ConnectorGroupCollection struct {
	value    []*ConnectorGroup
	nextLink *string
	count    *int64
}

// NewConnectorGroupCollection is the ParsableFactory of ConnectorGroupCollection.
func NewConnectorGroupCollection(serialization.ParseNode) (serialization.Parsable, error) {
	return &ConnectorGroupCollection{}, nil
}

// GetValue is the page's groups (PageIterator finds it by name).
func (c *ConnectorGroupCollection) GetValue() []*ConnectorGroup { return c.value }

// GetOdataNextLink is the link to the next page, if any.
func (c *ConnectorGroupCollection) GetOdataNextLink() *string { return c.nextLink }

// GetOdataCount is @odata.count, sent with $count=true.
func (c *ConnectorGroupCollection) GetOdataCount() *int64 { return c.count }

// Serialize implements serialization.Parsable; a page is only read.
func (c *ConnectorGroupCollection) Serialize(serialization.SerializationWriter) error { return nil }

// GetFieldDeserializers implements serialization.Parsable.
func (c *ConnectorGroupCollection) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			items, err := n.GetCollectionOfObjectValues(NewConnectorGroup)
			for _, item := range items {
				c.value = append(c.value, item.(*ConnectorGroup))
			}
			return err
		},
		"@odata.nextLink": func(n serialization.ParseNode) (err error) {
			c.nextLink, err = n.GetStringValue()
			return err
		},
		"@odata.count": func(n serialization.ParseNode) (err error) {
			c.count, err = n.GetInt64Value()
			return err
		},
	}
}
