// Package store defines the storage Latch's services depend on: the records,
// the narrow interface each product needs, and the sentinel errors. The SQL
// implementation lives in store/sqlstore; every implementation must pass
// store/storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors. Services decide what they mean to the caller.
var (
	// ErrNotFound: no row matched. Get methods never return (nil, nil).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule was violated; see ConflictError.
	ErrConflict = errors.New("store: conflict")
	// ErrConsumed: a single-use row was already used (or raced and lost).
	ErrConsumed = errors.New("store: already consumed")
	// ErrUnavailable: the database could not be reached.
	ErrUnavailable = errors.New("store: database unavailable")
)

// ConflictError says which unique field collided. errors.Is(err, ErrConflict) holds.
type ConflictError struct{ Field string }

func (e *ConflictError) Error() string        { return "store: conflict on " + e.Field }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Project is one project environment (test or live) and its credentials.
type Project struct {
	ID          string
	Name        string
	Vertical    string
	Environment string
	SecretHash  string
	PublicToken string
	CreatedAt   time.Time
	// Settings is the operator's JSON object of project settings; "{}" when none.
	Settings json.RawMessage
}

// RedirectURL is a registered redirect URL of one type.
type RedirectURL struct {
	ProjectID string
	Type      string // login, signup, invite, reset_password, discovery
	URL       string
	IsDefault bool
}

// User is a consumer user with its emails and phone numbers.
type User struct {
	ProjectID         string
	ID                string
	Status            string // pending or active
	FirstName         string
	MiddleName        string
	LastName          string
	ExternalID        string
	TrustedMetadata   json.RawMessage // nil when never set
	UntrustedMetadata json.RawMessage
	Roles             []string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	LockCreatedAt     *time.Time
	LockExpiresAt     *time.Time
	Emails            []Email
	Phones            []Phone
	// Password and TOTPs summarise the user's other factors for the user
	// object; every user read fills them.
	Password *UserPassword
	TOTPs    []UserTOTP
}

// UserPassword is what the user object shows of a password.
type UserPassword struct {
	ID            string
	RequiresReset bool
}

// UserTOTP is what the user object shows of a TOTP registration.
type UserTOTP struct {
	ID        string
	Verified  bool
	ExpiresAt time.Time
}

// Email is one of a user's email addresses.
type Email struct {
	ID        string
	UserID    string
	Address   string
	Verified  bool
	CreatedAt time.Time
}

// Phone is one of a user's phone numbers, E.164.
type Phone struct {
	ID        string
	UserID    string
	Number    string
	Verified  bool
	CreatedAt time.Time
}

// Session is a logged-in session; the token is kept only as its hash.
type Session struct {
	ProjectID      string
	ID             string
	UserID         string
	TokenHash      string
	StartedAt      time.Time
	LastAccessedAt time.Time
	ExpiresAt      time.Time
	Attributes     json.RawMessage
	Factors        json.RawMessage // []AuthenticationFactor as Stytch shapes it
	CustomClaims   json.RawMessage
	UpdatedAt      time.Time
}

// MagicLink is an email magic link; only the token's hash is stored.
type MagicLink struct {
	ProjectID     string
	TokenHash     string
	UserID        string
	EmailID       string // empty for embeddable links
	Kind          string // login, signup, invite, embedded
	RedirectURL   string // where the emailed link sends the browser
	CodeChallenge string
	IPAddress     string
	UserAgent     string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// OutboxMessage is an email or text waiting for (or done with) delivery.
type OutboxMessage struct {
	ProjectID   string
	ID          string
	Channel     string // email, sms, whatsapp
	Provider    string // dev, smtp, ...
	To          string
	Subject     string
	BodyText    string
	BodyHTML    string
	Link        string
	Token       string
	Code        string
	Status      string // pending, sending, sent, failed
	Attempts    int
	NextAttempt time.Time
	LeaseUntil  *time.Time
	LastError   string
	CreatedAt   time.Time
	SentAt      *time.Time
}

// SigningKey is a project's RSA key for session JWTs. Private is sealed.
type SigningKey struct {
	ProjectID string
	KID       string
	Private   []byte
	PublicJWK json.RawMessage
	CreatedAt time.Time
	ActiveAt  time.Time  // signs from this time; published before
	RetiredAt *time.Time // stops signing; stays published until JWTs expire
}

// UserQuery is a compiled users.search query.
type UserQuery struct {
	Operator string // AND or OR
	Filters  []UserFilter
	Limit    int
	After    *UserCursor
}

// UserCursor is the position after which the next page starts.
type UserCursor struct {
	CreatedAt time.Time
	ID        string
}

// UserFilter is one search operand, already validated by the users service.
type UserFilter struct {
	Name    string
	Strings []string
	String  string
	Bool    bool
	From    *time.Time
	To      *time.Time
}

// Store is every storage operation. Tx runs fn with a Store bound to one
// transaction; fn's error rolls it back.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error
	Ping(ctx context.Context) error
	Close() error

	ProjectStore
	UserStore
	SessionStore
	MagicLinkStore
	OutboxStore
	KeyStore
	OTPStore
	PasswordStore
	TOTPStore
	WebhookStore
	ConnectedAppStore
}

// ProjectStore holds projects and their redirect URLs.
type ProjectStore interface {
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context) ([]Project, error)
	// SerializeFirstStart, inside a Tx, holds until the transaction ends a
	// lock that every process's first-start check takes, so two replicas
	// starting on an empty database do not both create a project. (SQLite's
	// write transactions are serial already.)
	SerializeFirstStart(ctx context.Context) error
	// UpdateProjectSettings replaces the project's settings object.
	UpdateProjectSettings(ctx context.Context, id string, settings json.RawMessage) error
	AddRedirectURL(ctx context.Context, u RedirectURL) error
	ListRedirectURLs(ctx context.Context, projectID string) ([]RedirectURL, error)
}

// UserStore holds users, emails and phone numbers. All lookups are scoped
// by project.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, projectID, userID string) (*User, error)
	GetUserByExternalID(ctx context.Context, projectID, externalID string) (*User, error)
	// UpdateUser writes the scalar fields (status, names, metadata, roles, external id, lock).
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, projectID, userID string) error
	SearchUsers(ctx context.Context, projectID string, q UserQuery) (users []User, total int, err error)

	AddEmail(ctx context.Context, projectID string, e *Email) error
	GetEmailByAddress(ctx context.Context, projectID, address string) (*Email, error)
	GetEmail(ctx context.Context, projectID, emailID string) (*Email, error)
	VerifyEmail(ctx context.Context, projectID, emailID string) error
	DeleteEmail(ctx context.Context, projectID, emailID string) error

	AddPhone(ctx context.Context, projectID string, p *Phone) error
	GetPhone(ctx context.Context, projectID, phoneID string) (*Phone, error)
	GetPhoneByNumber(ctx context.Context, projectID, number string) (*Phone, error)
	DeletePhone(ctx context.Context, projectID, phoneID string) error
}

// SessionStore holds sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, projectID, sessionID string) (*Session, error)
	GetSessionByTokenHash(ctx context.Context, projectID, tokenHash string) (*Session, error)
	// GetSessionWithUser loads a session (by id, or by token hash when id is
	// empty) together with its user, emails and phones in one round trip:
	// it is the hot path of sessions.authenticate.
	GetSessionWithUser(ctx context.Context, projectID, sessionID, tokenHash string) (*Session, *User, error)
	ListSessions(ctx context.Context, projectID, userID string) ([]Session, error)
	// UpdateSession writes expiry, factors, claims, attributes and last access.
	UpdateSession(ctx context.Context, s *Session) error
	// TouchSession sets last_accessed_at if the stored value is older than at.
	TouchSession(ctx context.Context, projectID, sessionID string, at time.Time) error
	DeleteSession(ctx context.Context, projectID, sessionID string) error
	DeleteUserSessions(ctx context.Context, projectID, userID string) error
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error)
}

// MagicLinkStore holds magic-link tokens.
type MagicLinkStore interface {
	CreateMagicLink(ctx context.Context, m *MagicLink) error
	GetMagicLink(ctx context.Context, projectID, tokenHash string) (*MagicLink, error)
	// ConsumeMagicLink marks the link used if it is unused and unexpired at
	// now; exactly one of any number of concurrent callers succeeds, the
	// others get ErrConsumed.
	ConsumeMagicLink(ctx context.Context, projectID, tokenHash string, now time.Time) error
	// RevokeInvites deletes unused invite links for an email and reports how many.
	RevokeInvites(ctx context.Context, projectID, emailID string) (int64, error)
}

// OutboxStore holds outgoing messages and leases them to workers.
type OutboxStore interface {
	EnqueueMessage(ctx context.Context, m *OutboxMessage) error
	// LeaseMessages claims up to n pending messages due at now for lease,
	// so no other worker (in any process) takes them meanwhile.
	LeaseMessages(ctx context.Context, now time.Time, lease time.Duration, n int) ([]OutboxMessage, error)
	MarkSent(ctx context.Context, id string, at time.Time, scrub bool) error
	MarkFailed(ctx context.Context, id string, errText string, next time.Time, final bool) error
	ListMessages(ctx context.Context, projectID, to string, limit int) ([]OutboxMessage, error)
	// DeleteMessagesBefore deletes up to limit messages created before
	// before, across projects, that are settled (sent or failed).
	DeleteMessagesBefore(ctx context.Context, before time.Time, limit int) (int64, error)
}

// KeyStore holds signing keys.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context, projectID string) ([]SigningKey, error)
	RetireSigningKey(ctx context.Context, projectID, kid string, at time.Time) error
}

// ---- Connected Apps ----

// ConnectedApp is a Connected Apps client (an OAuth 2.0 client of the
// project's users). Confidential clients keep their secret only as a hash;
// during a rotation the next secret's hash sits beside the current one.
type ConnectedApp struct {
	ProjectID                     string
	ID                            string // connected-app-<env>-<uuid>
	ClientType                    string // first_party, first_party_public, third_party, third_party_public
	Name                          string
	Description                   string
	Status                        string // active
	FullAccessAllowed             bool
	RedirectURLs                  []string
	PostLogoutRedirectURLs        []string
	AccessTokenExpiryMinutes      int
	AccessTokenCustomAudience     string
	AccessTokenTemplate           string
	IDTokenTemplate               string
	LogoURL                       string
	BypassConsentForOfflineAccess bool
	CreationMethod                string
	SecretHash                    string // "" for public clients
	SecretLastFour                string
	NextSecretHash                string // "" unless a rotation is in progress
	NextSecretLastFour            string
	CreatedAt                     time.Time
	UpdatedAt                     time.Time
}

// ConnectedAppCursor is the position after which the next page of
// ListConnectedApps starts.
type ConnectedAppCursor struct {
	CreatedAt time.Time
	ID        string
}

// ConnectedAppAuthorization is a user's standing grant to a client: the
// scopes the user has consented to over time.
type ConnectedAppAuthorization struct {
	ProjectID string
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthorizationCode is an OAuth authorization code; only its hash is
// stored, and it is redeemed once. GrantID ties together every token issued
// from it, so a replayed code can revoke them.
type AuthorizationCode struct {
	ProjectID     string
	CodeHash      string
	GrantID       string
	ClientID      string
	UserID        string
	SessionID     string // the session that authorized, "" when authorized by user_id
	RedirectURI   string
	Scopes        []string
	Resources     []string
	Nonce         string
	CodeChallenge string // S256, "" without PKCE
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
}

// RefreshToken is a Connected Apps refresh token, stored as its hash.
// A rotated-out token keeps its row with UsedAt set, so its replay is
// recognised.
type RefreshToken struct {
	ProjectID string
	TokenHash string
	GrantID   string
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string
	Resources []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// AccessTokenRecord remembers an issued access token by its jti: revoking
// consent deletes it (so introspection and exchange refuse the token) and
// exchanging it for a session marks it, once.
type AccessTokenRecord struct {
	ProjectID   string
	JTI         string
	GrantID     string
	ClientID    string
	UserID      string
	SessionID   string
	Scopes      []string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	ExchangedAt *time.Time
}

// ConnectedAppStore holds Connected Apps clients, users' grants to them,
// authorization codes and the tokens issued from them. Everything is scoped
// by project; deleting a client or a user deletes its grants, codes and
// tokens.
type ConnectedAppStore interface {
	CreateConnectedApp(ctx context.Context, c *ConnectedApp) error
	GetConnectedApp(ctx context.Context, projectID, clientID string) (*ConnectedApp, error)
	// UpdateConnectedApp writes every mutable field, the secret columns and
	// UpdatedAt; ErrNotFound if the client is gone.
	UpdateConnectedApp(ctx context.Context, c *ConnectedApp) error
	DeleteConnectedApp(ctx context.Context, projectID, clientID string) error
	// ListConnectedApps pages through a project's clients by (created_at,
	// id) after the cursor (nil for the first page); total counts them all.
	ListConnectedApps(ctx context.Context, projectID string, after *ConnectedAppCursor, limit int) (apps []ConnectedApp, total int, err error)

	// PutAuthorization creates or replaces a user's grant to a client
	// (CreatedAt of an existing grant is kept).
	PutAuthorization(ctx context.Context, a *ConnectedAppAuthorization) error
	GetAuthorization(ctx context.Context, projectID, userID, clientID string) (*ConnectedAppAuthorization, error)
	// ListAuthorizations returns a user's grants, oldest first.
	ListAuthorizations(ctx context.Context, projectID, userID string) ([]ConnectedAppAuthorization, error)
	// RevokeAuthorization deletes a user's grant to a client and every
	// code, refresh token and access-token record issued to that client on
	// the user's behalf. It reports whether a grant existed.
	RevokeAuthorization(ctx context.Context, projectID, userID, clientID string) (bool, error)

	CreateAuthorizationCode(ctx context.Context, c *AuthorizationCode) error
	GetAuthorizationCode(ctx context.Context, projectID, codeHash string) (*AuthorizationCode, error)
	// ConsumeAuthorizationCode marks the code used if it is unused and
	// unexpired at now: exactly one of concurrent callers succeeds, the
	// others get ErrConsumed; an unknown code is ErrNotFound.
	ConsumeAuthorizationCode(ctx context.Context, projectID, codeHash string, now time.Time) error

	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	GetRefreshToken(ctx context.Context, projectID, tokenHash string) (*RefreshToken, error)
	// UseRefreshToken marks the token used (rotated out) if it is unused
	// and unexpired at now; exactly one concurrent caller succeeds, the
	// others get ErrConsumed; unknown is ErrNotFound.
	UseRefreshToken(ctx context.Context, projectID, tokenHash string, now time.Time) error
	// ExtendRefreshToken moves an unused, unexpired token's expiry to
	// until; ErrConsumed if it is used or expired at now.
	ExtendRefreshToken(ctx context.Context, projectID, tokenHash string, now, until time.Time) error

	CreateAccessTokenRecord(ctx context.Context, r *AccessTokenRecord) error
	GetAccessTokenRecord(ctx context.Context, projectID, jti string) (*AccessTokenRecord, error)
	// MarkAccessTokenExchanged records the token's one exchange for a
	// session: exactly one concurrent caller succeeds, the others get
	// ErrConsumed; a token with no record is ErrNotFound.
	MarkAccessTokenExchanged(ctx context.Context, projectID, jti string, now time.Time) error

	// RevokeGrant deletes the refresh tokens and access-token records
	// issued under a grant (a replayed code or refresh token).
	RevokeGrant(ctx context.Context, projectID, grantID string) error
	// DeleteExpiredConnectedAppTokens deletes codes, refresh tokens and
	// access-token records that expired before before, in every project.
	DeleteExpiredConnectedAppTokens(ctx context.Context, before time.Time) (int64, error)
}
