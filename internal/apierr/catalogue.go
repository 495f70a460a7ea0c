package apierr

import "net/http"

// Transport and generic errors.
var (
	UnauthorizedCredentials = def(http.StatusUnauthorized, "unauthorized_credentials", "Unauthorized credentials.")
	BadRequest              = def(http.StatusBadRequest, "bad_request", "Bad request.")
	InvalidArgument         = def(http.StatusBadRequest, "invalid_argument", "A request field has an invalid value.")
	MissingArgument         = def(http.StatusBadRequest, "missing_argument", "A required field is missing.")
	RequestTooLarge         = def(http.StatusRequestEntityTooLarge, "request_too_large", "The request body exceeds 1 MiB.")
	RouteNotFound           = def(http.StatusNotFound, "route_not_found", "The requested route does not exist.")
	MethodNotAllowed        = def(http.StatusMethodNotAllowed, "method_not_allowed", "The HTTP method is not allowed on this route.")
	RouteNotSupportedInLive = def(http.StatusNotFound, "route_not_supported_in_live", "This route is only available in test environments.")
	InternalServerError     = def(http.StatusInternalServerError, "internal_server_error", "Oops, something seems to have gone wrong.")
	ServerUnavailable       = def(http.StatusServiceUnavailable, "server_unavailable", "The service is temporarily unavailable; retry shortly.")
	TooManyRequests         = def(http.StatusTooManyRequests, "too_many_requests", "Too many requests; retry after retry_after seconds.")
)

// Users.
var (
	UserNotFound              = def(http.StatusNotFound, "user_not_found", "User could not be found.")
	InvalidUserID             = def(http.StatusBadRequest, "invalid_user_id", "user_id format is invalid.")
	DuplicateEmail            = def(http.StatusBadRequest, "duplicate_email", "A user with this email already exists for this project.")
	DuplicatePhoneNumber      = def(http.StatusBadRequest, "duplicate_phone_number", "A user with this phone number already exists for this project.")
	DuplicateUserExternalID   = def(http.StatusBadRequest, "duplicate_user_external_id", "A user with this external_id already exists for this project.")
	InvalidEmail              = def(http.StatusBadRequest, "invalid_email", "Email format is invalid.")
	InvalidPhoneNumber        = def(http.StatusBadRequest, "invalid_phone_number", "Phone number format is invalid; use E.164, for example +14155551234.")
	InvalidExternalID         = def(http.StatusBadRequest, "invalid_external_id", "external_id may hold up to 128 characters from A-Z a-z 0-9 . _ - |.")
	EmailNotFound             = def(http.StatusNotFound, "email_not_found", "Email could not be found.")
	PhoneNumberNotFound       = def(http.StatusNotFound, "phone_number_not_found", "Phone number could not be found.")
	InvalidEmailID            = def(http.StatusBadRequest, "invalid_email_id", "email_id format is invalid.")
	InvalidPhoneID            = def(http.StatusBadRequest, "invalid_phone_id", "phone_id format is invalid.")
	MetadataTooLarge          = def(http.StatusBadRequest, "metadata_too_large", "Metadata may hold at most 4 KB of JSON.")
	InvalidName               = def(http.StatusBadRequest, "invalid_name", "Names may hold at most 255 characters each.")
	InvalidRoles              = def(http.StatusBadRequest, "invalid_rbac_role_id", "Role ids must be non-empty strings.")
	UserSearchInvalidOperator = def(http.StatusBadRequest, "user_search_invalid_operator", "query.operator must be AND or OR.")
	UserSearchInvalidLimit    = def(http.StatusBadRequest, "user_search_invalid_limit", "limit must be between 1 and 1000.")
	UserSearchInvalidCursor   = def(http.StatusBadRequest, "user_search_invalid_cursor", "cursor is invalid.")
	UserSearchUnknownFilter   = def(http.StatusBadRequest, "user_search_filter_name_not_recognized", "filter_name is not recognised.")
	UserSearchMissingName     = def(http.StatusBadRequest, "user_search_missing_filter_name", "Every operand needs a filter_name.")
	UserSearchMissingValue    = def(http.StatusBadRequest, "user_search_missing_filter_value", "Every operand needs a filter_value.")
	UserSearchExpectedString  = def(http.StatusBadRequest, "user_search_expected_string", "filter_value must be a string.")
	UserSearchExpectedBool    = def(http.StatusBadRequest, "user_search_expected_bool", "filter_value must be a boolean.")
	UserSearchExpectedArray   = def(http.StatusBadRequest, "user_search_expected_array_of_string", "filter_value must be an array of strings.")
	UserSearchExpectedObject  = def(http.StatusBadRequest, "user_search_expected_object", "filter_value must be an object.")
	UserSearchExpectedTime    = def(http.StatusBadRequest, "user_search_expected_timestamp", "filter_value must be an RFC 3339 timestamp.")
	UserSearchInvalidStatus   = def(http.StatusBadRequest, "user_search_invalid_status_filter", "status must be active or pending.")
	UserSearchInvalidProvider = def(http.StatusBadRequest, "user_search_invalid_oauth_provider_filter", "oauth_provider holds an unknown provider.")
	UserSearchTooManyValues   = def(http.StatusBadRequest, "user_search_maximum_filter_value_count_exceeded", "A filter may hold at most 100 values.")
	UserSearchFuzzyTooShort   = def(http.StatusBadRequest, "user_search_fuzzy_too_short", "Fuzzy filters need at least 3 characters.")
)

// Magic links and redirect URLs.
var (
	MagicLinkNotFound            = def(http.StatusNotFound, "magic_link_not_found", "Magic link could not be authenticated.")
	UnableToAuthMagicLink        = def(http.StatusUnauthorized, "unable_to_auth_magic_link", "Magic link could not be authenticated because it was either already used or expired. Send another magic link to this user.")
	InvalidMagicLinkURL          = def(http.StatusBadRequest, "invalid_magic_link_url", "The magic link URL is malformed; it needs an http or https scheme and a host.")
	NoMatchForMagicLinkURL       = def(http.StatusBadRequest, "no_match_for_provided_magic_link_url", "The magic link URL is not registered as a redirect URL for this project.")
	NoLoginRedirectURLSet        = def(http.StatusBadRequest, "no_login_redirect_urls_set", "No login redirect URL was given and the project has no default login redirect URL.")
	NoSignupRedirectURLSet       = def(http.StatusBadRequest, "no_signup_redirect_urls_set", "No signup redirect URL was given and the project has no default signup redirect URL.")
	NoInviteRedirectURLSet       = def(http.StatusBadRequest, "no_invite_redirect_urls_set", "No invite redirect URL was given and the project has no default invite redirect URL.")
	InvalidExpiration            = def(http.StatusBadRequest, "invalid_expiration", "Expiration minutes must be between 5 and 10080.")
	UserAlreadyActive            = def(http.StatusBadRequest, "user_already_active", "The user is already active and cannot be invited.")
	InviteNotFound               = def(http.StatusNotFound, "invite_not_found", "No pending invite exists for this email.")
	PKCEMismatch                 = def(http.StatusBadRequest, "pkce_mismatch", "The code_verifier does not match the code_challenge.")
	PKCEExpectedCodeVerifier     = def(http.StatusBadRequest, "pkce_expected_code_verifier", "This magic link was sent with a code_challenge; a code_verifier is required.")
	PKCEDidNotExpectCodeVerifier = def(http.StatusBadRequest, "pkce_did_not_expect_code_verifier", "This magic link was sent without a code_challenge; omit code_verifier.")
	AttributeMismatch            = def(http.StatusUnauthorized, "attribute_mismatch", "The request attributes do not match those of the original request.")
	InvalidTemplateID            = def(http.StatusBadRequest, "email_template_not_found", "No email template with that id exists for this project.")
	EmailProviderNotConfigured   = def(http.StatusServiceUnavailable, "email_provider_not_configured", "Live projects need a real email provider; start latch serve with SMTP settings.")
	InvalidLocale                = def(http.StatusBadRequest, "invalid_locale", "locale is not one this method supports.")
)

// Sessions.
var (
	SessionNotFound = def(http.StatusNotFound, "session_not_found", "Session could not be found.")
	// Session migration (sessions.migrate): Latch names these itself; Stytch
	// documents no error types for the external UserInfo call.
	SessionMigrationNotConfigured   = def(http.StatusBadRequest, "session_migration_not_configured", "This project has no UserInfo URL for session migration; set one with latch projects update --session-migration-url.")
	ExternalSessionRejected         = def(http.StatusUnauthorized, "external_session_rejected", "The external UserInfo endpoint did not accept the session token.")
	ExternalUserInfoUnavailable     = def(http.StatusBadGateway, "external_userinfo_unavailable", "The external UserInfo endpoint could not be reached or failed; retry shortly.")
	InvalidUserInfo                 = def(http.StatusBadRequest, "invalid_userinfo_response", "The external UserInfo response has no valid email address.")
	InvalidSessionToken             = def(http.StatusBadRequest, "invalid_session_token", "session_token format is invalid.")
	InvalidSessionID                = def(http.StatusBadRequest, "invalid_session_id", "session_id format is invalid.")
	TooManySessionArguments         = def(http.StatusBadRequest, "too_many_session_arguments", "Pass exactly one of session_token or session_jwt.")
	NoSessionArguments              = def(http.StatusBadRequest, "no_session_arguments", "Pass one of session_token or session_jwt.")
	TooManySessionRevokeArguments   = def(http.StatusBadRequest, "too_many_session_revoke_arguments", "Pass exactly one of session_id, session_token or session_jwt.")
	NoSessionRevokeArguments        = def(http.StatusBadRequest, "no_session_revoke_arguments", "Pass one of session_id, session_token or session_jwt.")
	UnableToParseSessionJWT         = def(http.StatusBadRequest, "unable_to_parse_session_jwt", "session_jwt could not be parsed.")
	InvalidSessionJWT               = def(http.StatusUnauthorized, "jwt_invalid", "session_jwt failed verification.")
	InvalidSessionDuration          = def(http.StatusBadRequest, "invalid_session_duration_minutes", "session_duration_minutes must be between 5 and 527040.")
	CustomClaimsTooLarge            = def(http.StatusBadRequest, "custom_claims_too_large", "Custom claims may total at most 4 KB.")
	SessionUserMismatch             = def(http.StatusBadRequest, "session_user_mismatch", "The session belongs to a different user.")
	ConsumerSessionAuthorizationErr = def(http.StatusForbidden, "consumer_session_authorization_error", "The session's roles do not grant this permission.")
	ProjectNotFound                 = def(http.StatusNotFound, "project_not_found", "Project could not be found.")
	ProjectIDMismatch               = def(http.StatusBadRequest, "project_id_mismatch", "The project_id in the path does not match the authenticated project.")
)

// One-time passcodes.
var (
	OTPCodeNotFound          = def(http.StatusNotFound, "otp_code_not_found", "The one-time passcode is incorrect.")
	UnableToAuthOTPCode      = def(http.StatusUnauthorized, "unable_to_auth_otp_code", "The one-time passcode was already used, has expired or had too many wrong attempts. Send a new one.")
	InvalidCode              = def(http.StatusBadRequest, "invalid_code", "The code must be 6 digits.")
	InvalidMethodID          = def(http.StatusBadRequest, "invalid_method_id", "method_id must be an email_id or phone_id.")
	InvalidExpirationOTP     = def(http.StatusBadRequest, "invalid_expiration_otp", "expiration_minutes must be between 1 and 10.")
	SMSProviderNotConfigured = def(http.StatusServiceUnavailable, "sms_provider_not_configured", "Live projects need an SMS provider; start latch serve with Twilio settings.")
)

// TOTP.
var (
	ActiveTOTPExists             = def(http.StatusBadRequest, "active_totp_exists", "The user already has an active TOTP registration; delete it before creating another.")
	TOTPNotFound                 = def(http.StatusNotFound, "totp_not_found", "The user has no TOTP registration.")
	PasswordNotFound             = def(http.StatusNotFound, "password_not_found", "No password with that id exists.")
	ExpiredTOTP                  = def(http.StatusBadRequest, "expired_totp", "The TOTP registration was not verified within its expiration_minutes; create a new one.")
	InvalidTOTPCode              = def(http.StatusBadRequest, "invalid_totp_code", "totp_code must be 6 digits.")
	UnableToAuthTOTP             = def(http.StatusUnauthorized, "unable_to_authenticate_totp", "The TOTP code is incorrect.")
	TOTPCodeAlreadyAuthenticated = def(http.StatusBadRequest, "totp_code_already_authenticated", "This TOTP code, or a later one, was already used; wait for the next code.")
	InvalidRecoveryCode          = def(http.StatusBadRequest, "invalid_recovery_code", "recovery_code must look like xxxx-xxxx-xxxx.")
	UnableToAuthRecoveryCode     = def(http.StatusUnauthorized, "unable_to_authenticate_recovery_code", "The recovery code is incorrect or was already used.")
)

// Passwords.
var (
	WeakPassword                   = def(http.StatusBadRequest, "weak_password", "The password is too weak.")
	BreachedPassword               = def(http.StatusBadRequest, "breached_password", "The password appears in a list of breached passwords; choose another.")
	ResetPassword                  = def(http.StatusBadRequest, "reset_password", "The password must be reset before it can be used.")
	NoUserPassword                 = def(http.StatusBadRequest, "no_user_password", "The user has no password; set one with a reset or passwords.migrate.")
	UserLockLimitReached           = def(http.StatusTooManyRequests, "user_lock_limit_reached", "The user is locked after too many failed authentications.")
	SessionTooOldToResetPassword   = def(http.StatusBadRequest, "session_too_old_to_reset_password", "The session needs a password, magic link or email OTP factor from the last 5 minutes.")
	NoResetPasswordRedirectURLSet  = def(http.StatusBadRequest, "no_reset_password_redirect_urls_set", "No reset_password_redirect_url was given and the project has no default reset password redirect URL.")
	UnableToAuthPasswordResetToken = def(http.StatusUnauthorized, "unable_to_auth_password_reset_token", "The password reset token is unknown, used or expired.")
	InvalidHash                    = def(http.StatusBadRequest, "invalid_hash", "The hash could not be read.")
)

// Connected Apps (the consumer IdP). connected_app_not_found,
// connected_app_consent_revoked, connected_app_supplied_redirect_url_not_found_in_client
// and the idp_* not-found types have documented statuses; the names of the
// others come from Stytch's error list and their statuses are inferred.
var (
	ConnectedAppNotFound                     = def(http.StatusNotFound, "connected_app_not_found", "Connected App could not be found.")
	InvalidClientID                          = def(http.StatusBadRequest, "invalid_client_id", "client_id format is invalid.")
	InvalidConnectedAppType                  = def(http.StatusBadRequest, "invalid_connected_app_type", "client_type must be first_party, first_party_public, third_party or third_party_public.")
	ConnectedAppInvalidRedirectURL           = def(http.StatusBadRequest, "connected_app_invalid_redirect_url", "A redirect URL is not a valid absolute URL.")
	ConnectedAppRedirectURLMustIncludeScheme = def(http.StatusBadRequest, "connected_app_redirect_url_must_include_scheme", "Redirect URLs must include a scheme, for example https://.")
	ConnectedAppRedirectURLMustUseHTTP       = def(http.StatusBadRequest, "connected_app_redirect_url_must_use_http_or_https_scheme", "Redirect URLs of confidential clients must use http or https.")
	ConnectedAppRedirectURLHTTPLoopback      = def(http.StatusBadRequest, "connected_app_redirect_url_http_scheme_must_use_loopback", "Redirect URLs may use http only for localhost or a loopback address.")
	ConnectedAppRedirectURLCannotUseLocal    = def(http.StatusBadRequest, "connected_app_redirect_url_cannot_use_localhost", "Live projects cannot register localhost redirect URLs.")
	TooManyRedirectURLs                      = def(http.StatusBadRequest, "too_many_redirect_urls", "A client may register at most 50 redirect URLs of each kind.")
	ThirdPartyClientsCannotUseFullAccess     = def(http.StatusBadRequest, "third_party_clients_cannot_use_full_access", "Only first-party clients may use full access.")
	ThirdPartyClientsRequireConsentOffline   = def(http.StatusBadRequest, "third_party_clients_require_consent_for_offline_access", "Third-party clients always need consent for offline_access.")
	InvalidAccessTokenExpiryMinutes          = def(http.StatusBadRequest, "idp_invalid_access_token_expiry_minutes", "access_token_expiry_minutes must be between 5 and 1440.")
	InvalidAccessTokenCustomAudience         = def(http.StatusBadRequest, "idp_invalid_access_token_custom_audience", "access_token_custom_audience must be at most 512 printable characters without spaces.")
	JWTTemplateInvalidJSON                   = def(http.StatusBadRequest, "jwt_template_invalid_json", "The claims template is not a JSON object once its variables are filled in.")
	JWTTemplateInvalidTag                    = def(http.StatusBadRequest, "jwt_template_invalid_tag", "The claims template uses a variable that is not user.<field>, or uses one as an object key.")
	JWTTemplateMismatchedTag                 = def(http.StatusBadRequest, "jwt_template_mismatched_tag", "The claims template has a {{ without its closing }}.")
	ConnectedAppAlreadyRotatingSecret        = def(http.StatusBadRequest, "connected_app_already_rotating_secret", "A secret rotation is already in progress; rotate or cancel it first.")
	ConnectedAppNotRotatingSecret            = def(http.StatusBadRequest, "connected_app_not_rotating_secret", "No secret rotation is in progress; call rotate/start first.")
	PublicConnectedAppsHaveNoSecrets         = def(http.StatusBadRequest, "public_connected_apps_do_not_have_secrets", "Public clients have no client secret.")
	RedirectURLNotFoundInClient              = def(http.StatusUnauthorized, "connected_app_supplied_redirect_url_not_found_in_client", "The redirect_uri is not registered on the client.")
	OAuthInvalidScopeRequested               = def(http.StatusBadRequest, "oauth_invalid_scope_requested", "A requested scope is unknown or not allowed for this client.")
	PKCERequiredForIDPFlow                   = def(http.StatusBadRequest, "pkce_required_for_idp_authorization_flow", "Public clients must send a PKCE code_challenge.")
	InvalidPKCECodeChallenge                 = def(http.StatusBadRequest, "invalid_pkce_code_challenge", "code_challenge must be the base64url SHA-256 of the verifier (43 characters).")
	NoOAuthAuthorizeUserSelector             = def(http.StatusBadRequest, "no_oauth_authorize_user_selector", "Pass one of user_id, session_token or session_jwt.")
	TooManyUserSelectionArguments            = def(http.StatusBadRequest, "too_many_user_selection_arguments", "Pass exactly one of user_id, session_token or session_jwt.")
	ConnectedAppConsentRevoked               = def(http.StatusUnauthorized, "connected_app_consent_revoked", "The user revoked this Connected App's access; complete another authorization flow.")
	IDPAccessTokenNotFound                   = def(http.StatusNotFound, "idp_access_token_not_found", "The access token could not be found.")
	IDPAccessTokenExpired                    = def(http.StatusUnauthorized, "idp_access_token_expired", "The access token has expired.")
	IDPAccessTokenCouldNotBeExchanged        = def(http.StatusNotFound, "idp_access_token_could_not_be_exchanged", "The access token was already exchanged; each access token can be exchanged once.")
	AccessTokenExchangeMissingFullAccess     = def(http.StatusBadRequest, "oauth_access_token_exchange_missing_full_access", "The access token was not granted the full_access scope.")
	AccessTokenExchangeTokenTooOld           = def(http.StatusBadRequest, "oauth_access_token_exchange_token_too_old", "Access tokens may be exchanged only within 5 minutes of being issued.")
	AccessTokenExchangeInvalidGrant          = def(http.StatusBadRequest, "oauth_access_token_exchange_token_invalid_grant", "The access token is not a valid Connected Apps access token of this project.")
	NoAssociatedSessionPassedIn              = def(http.StatusBadRequest, "no_associated_session_passed_in", "The authorization was made with user_id, not a session; only tokens from a session's authorization can be exchanged.")
)

// OAuth 2.0 errors (RFC 6749 section 5.2). The /v1/public/{project_id}/oauth2/*
// endpoints render them in the OAuth form: error, error_description,
// error_uri, status_code, request_id.
var (
	OAuthInvalidRequest       = def(http.StatusBadRequest, "invalid_request", "The request is missing a parameter or has a malformed one.")
	OAuthInvalidClient        = def(http.StatusBadRequest, "invalid_client", "Client authentication failed.")
	OAuthInvalidGrant         = def(http.StatusBadRequest, "invalid_grant", "The authorization code or refresh token is invalid, expired, used or was issued to another client.")
	OAuthUnauthorizedClient   = def(http.StatusBadRequest, "unauthorized_client", "The client may not use this grant type.")
	OAuthUnsupportedGrantType = def(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
	OAuthInvalidScope         = def(http.StatusBadRequest, "invalid_scope", "The requested scope exceeds the scope of the grant.")
)
