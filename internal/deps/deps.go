// Package deps pins modules other packages are about to import; removed once they do.
package deps

import (
	_ "github.com/emersion/go-sasl"
	_ "github.com/emersion/go-smtp"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/wneessen/go-mail"
	_ "golang.org/x/net/idna"
	_ "modernc.org/sqlite"
)
