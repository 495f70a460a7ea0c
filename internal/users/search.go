package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchhq/latch/internal/apierr"
	"github.com/latchhq/latch/internal/store"
	"github.com/latchhq/latch/internal/tenant"
)

// Search bounds.
const (
	DefaultSearchLimit = 100
	MaxSearchLimit     = 1000
	maxFilterValues    = 100
)

// SearchQuery is the users.search query object.
type SearchQuery struct {
	Operator string    `json:"operator"`
	Operands []Operand `json:"operands"`
}

// Operand is one filter; its value's JSON type depends on the filter name.
type Operand struct {
	FilterName  *string         `json:"filter_name"`
	FilterValue json.RawMessage `json:"filter_value"`
}

type valueKind int

const (
	kindString valueKind = iota
	kindBool
	kindStrings
	kindTime
	kindBetween
)

// filters lists every SearchUsersQueryOperand in the SDK's types.
var filters = map[string]valueKind{
	"created_at_greater_than":        kindTime,
	"created_at_less_than":           kindTime,
	"created_at_between":             kindBetween,
	"status":                         kindString,
	"oauth_provider":                 kindStrings,
	"user_id":                        kindStrings,
	"full_name_fuzzy":                kindString,
	"phone_number":                   kindStrings,
	"phone_id":                       kindStrings,
	"phone_verified":                 kindBool,
	"phone_number_fuzzy":             kindString,
	"email_address":                  kindStrings,
	"email_id":                       kindStrings,
	"email_verified":                 kindBool,
	"email_address_fuzzy":            kindString,
	"webauthn_registration_verified": kindBool,
	"webauthn_registration_id":       kindStrings,
	"crypto_wallet_id":               kindStrings,
	"crypto_wallet_address":          kindStrings,
	"crypto_wallet_verified":         kindBool,
	"totp_id":                        kindStrings,
	"totp_verified":                  kindBool,
	"password_exists":                kindBool,
}

// oauthProviders are the provider names Stytch's consumer OAuth supports.
var oauthProviders = map[string]bool{
	"amazon": true, "apple": true, "bitbucket": true, "coinbase": true, "discord": true, "facebook": true,
	"figma": true, "github": true, "gitlab": true, "google": true, "linkedin": true, "microsoft": true,
	"salesforce": true, "shopify": true, "slack": true, "snapchat": true, "spotify": true, "steam": true,
	"tiktok": true, "twitch": true, "twitter": true, "yahoo": true, "hubspot": true,
}

func parseTime(raw json.RawMessage) (*time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, apierr.UserSearchExpectedTime
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, apierr.UserSearchExpectedTime.Withf("%q is not an RFC 3339 timestamp.", s)
	}
	t = t.UTC()
	return &t, nil
}

func compile(op Operand) (store.UserFilter, error) {
	if op.FilterName == nil || *op.FilterName == "" {
		return store.UserFilter{}, apierr.UserSearchMissingName
	}
	name := *op.FilterName
	kind, ok := filters[name]
	if !ok {
		return store.UserFilter{}, apierr.UserSearchUnknownFilter.Withf("filter_name %q is not recognised.", name)
	}
	if len(op.FilterValue) == 0 || string(op.FilterValue) == "null" {
		return store.UserFilter{}, apierr.UserSearchMissingValue.Withf("filter %s needs a filter_value.", name)
	}
	f := store.UserFilter{Name: name}
	switch kind {
	case kindString:
		if err := json.Unmarshal(op.FilterValue, &f.String); err != nil {
			return f, apierr.UserSearchExpectedString.Withf("filter_value of %s must be a string.", name)
		}
	case kindBool:
		if err := json.Unmarshal(op.FilterValue, &f.Bool); err != nil {
			return f, apierr.UserSearchExpectedBool.Withf("filter_value of %s must be a boolean.", name)
		}
	case kindStrings:
		if err := json.Unmarshal(op.FilterValue, &f.Strings); err != nil || len(f.Strings) == 0 {
			return f, apierr.UserSearchExpectedArray.Withf("filter_value of %s must be a non-empty array of strings.", name)
		}
		if len(f.Strings) > maxFilterValues {
			return f, apierr.UserSearchTooManyValues
		}
	case kindTime:
		t, err := parseTime(op.FilterValue)
		if err != nil {
			return f, err
		}
		f.From, f.To = t, t
	case kindBetween:
		var between struct {
			GreaterThan json.RawMessage `json:"greater_than"`
			LessThan    json.RawMessage `json:"less_than"`
		}
		if err := json.Unmarshal(op.FilterValue, &between); err != nil {
			return f, apierr.UserSearchExpectedObject.With("created_at_between needs {greater_than, less_than}.")
		}
		var err error
		if f.From, err = parseTime(between.GreaterThan); err != nil {
			return f, err
		}
		if f.To, err = parseTime(between.LessThan); err != nil {
			return f, err
		}
	}
	return f, normalizeFilter(&f)
}

// normalizeFilter brings values to their stored form and checks them.
func normalizeFilter(f *store.UserFilter) error {
	switch f.Name {
	case "status":
		if f.String != "active" && f.String != "pending" {
			return apierr.UserSearchInvalidStatus
		}
	case "email_address":
		for i, e := range f.Strings {
			n, err := NormalizeEmail(e)
			if err != nil {
				return apierr.InvalidEmail.Withf("%q in email_address is not a valid email.", e)
			}
			f.Strings[i] = n
		}
	case "phone_number":
		for i, ph := range f.Strings {
			n, err := NormalizePhone(ph)
			if err != nil {
				return apierr.InvalidPhoneNumber.Withf("%q in phone_number is not a valid E.164 number.", ph)
			}
			f.Strings[i] = n
		}
	case "oauth_provider":
		for _, p := range f.Strings {
			if !oauthProviders[strings.ToLower(p)] {
				return apierr.UserSearchInvalidProvider.Withf("%q is not an OAuth provider.", p)
			}
		}
	case "full_name_fuzzy", "email_address_fuzzy":
		f.String = strings.TrimSpace(f.String)
		if len([]rune(f.String)) < 2 {
			return apierr.UserSearchFuzzyTooShort.Withf("%s needs at least 2 characters.", f.Name)
		}
	case "phone_number_fuzzy":
		f.String = strings.TrimLeft(strings.TrimSpace(f.String), "+")
		if len(f.String) < 3 {
			return apierr.UserSearchFuzzyTooShort.With("phone_number_fuzzy needs at least 3 digits.")
		}
	}
	return nil
}

type cursor struct {
	C int64  `json:"c"`
	I string `json:"i"`
}

func encodeCursor(u *store.User) string {
	b, _ := json.Marshal(cursor{C: u.CreatedAt.UnixMicro(), I: u.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*store.UserCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, apierr.UserSearchInvalidCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.I == "" {
		return nil, apierr.UserSearchInvalidCursor
	}
	return &store.UserCursor{CreatedAt: time.UnixMicro(c.C).UTC(), ID: c.I}, nil
}

// SearchInput is users.search.
type SearchInput struct {
	Cursor string
	Limit  *int
	Query  *SearchQuery
}

// SearchResult is a page of users and where the next starts.
type SearchResult struct {
	Users      []store.User
	Total      int
	NextCursor *string
}

// Search finds users matching every (AND) or any (OR) operand.
func (s *Service) Search(ctx context.Context, p tenant.Project, in SearchInput) (*SearchResult, error) {
	q := store.UserQuery{Operator: "AND", Limit: DefaultSearchLimit}
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > MaxSearchLimit {
			return nil, apierr.UserSearchInvalidLimit
		}
		q.Limit = *in.Limit
	}
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor)
		if err != nil {
			return nil, err
		}
		q.After = c
	}
	if in.Query != nil {
		switch strings.ToUpper(in.Query.Operator) {
		case "AND", "":
		case "OR":
			q.Operator = "OR"
		default:
			return nil, apierr.UserSearchInvalidOperator
		}
		if len(in.Query.Operands) > maxOperands {
			return nil, apierr.InvalidArgument.Withf("A query may have at most %d operands.", maxOperands)
		}
		for _, op := range in.Query.Operands {
			f, err := compile(op)
			if err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, f)
		}
	}
	limit := q.Limit
	q.Limit = limit + 1 // one extra row tells whether another page exists
	users, total, err := s.store.SearchUsers(ctx, p.ID, q)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Users: users, Total: total}
	if len(users) > limit {
		res.Users = users[:limit]
		c := encodeCursor(&res.Users[limit-1])
		res.NextCursor = &c
	}
	return res, nil
}

// maxOperands bounds a query's size: every operand is a SQL condition, and
// SQLite refuses expressions deeper than 1000.
const maxOperands = 100
