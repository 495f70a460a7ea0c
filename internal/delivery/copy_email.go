package delivery

// The copy of the built-in emails, one table per template kind, keyed by
// lower-cased locale. Every locale in EmailLocales has a row in each table
// (a test checks). %s is the project name.

// linkCopy is the copy of an email carrying a link.
type linkCopy struct {
	subject, heading string
	intro            string // what the link does
	button           string
	footer           string // what to do if the mail was not asked for
}

var loginCopy = map[string]linkCopy{
	"en":    {"Your login link for %s", "Log in to %s", "Click the link below to log in.", "Log in", "If you did not ask to log in, you can ignore this email."},
	"es":    {"Tu enlace para iniciar sesión en %s", "Inicia sesión en %s", "Haz clic en el enlace de abajo para iniciar sesión.", "Iniciar sesión", "Si no pediste iniciar sesión, puedes ignorar este correo."},
	"pt-br": {"Seu link de acesso para %s", "Acesse %s", "Clique no link abaixo para entrar.", "Entrar", "Se você não pediu para entrar, pode ignorar este e-mail."},
	"fr":    {"Votre lien de connexion à %s", "Connexion à %s", "Cliquez sur le lien ci-dessous pour vous connecter.", "Se connecter", "Si vous n'avez pas demandé à vous connecter, vous pouvez ignorer cet e-mail."},
}

var signupCopy = map[string]linkCopy{
	"en":    {"Finish signing up for %s", "Welcome to %s", "Click the link below to finish creating your account.", "Finish sign up", "If you did not ask to sign up, you can ignore this email."},
	"es":    {"Termina de registrarte en %s", "Te damos la bienvenida a %s", "Haz clic en el enlace de abajo para terminar de crear tu cuenta.", "Terminar registro", "Si no pediste registrarte, puedes ignorar este correo."},
	"pt-br": {"Conclua seu cadastro em %s", "Conclua seu cadastro em %s", "Clique no link abaixo para terminar de criar sua conta.", "Concluir cadastro", "Se você não pediu para se cadastrar, pode ignorar este e-mail."},
	"fr":    {"Terminez votre inscription à %s", "Bienvenue sur %s", "Cliquez sur le lien ci-dessous pour terminer la création de votre compte.", "Terminer l'inscription", "Si vous n'avez pas demandé à vous inscrire, vous pouvez ignorer cet e-mail."},
}

var inviteCopy = map[string]linkCopy{
	"en":    {"You're invited to %s", "You have been invited to %s", "Click the link below to accept the invitation.", "Accept invitation", "If you were not expecting this invitation, you can ignore this email."},
	"es":    {"Te han invitado a %s", "Tienes una invitación a %s", "Haz clic en el enlace de abajo para aceptar la invitación.", "Aceptar invitación", "Si no esperabas esta invitación, puedes ignorar este correo."},
	"pt-br": {"Você recebeu um convite para %s", "Convite para %s", "Clique no link abaixo para aceitar o convite.", "Aceitar convite", "Se você não esperava este convite, pode ignorar este e-mail."},
	"fr":    {"Vous êtes invité à rejoindre %s", "Invitation à rejoindre %s", "Cliquez sur le lien ci-dessous pour accepter l'invitation.", "Accepter l'invitation", "Si vous n'attendiez pas cette invitation, vous pouvez ignorer cet e-mail."},
}

var resetCopy = map[string]linkCopy{
	"en":    {"Reset your %s password", "Reset your password for %s", "Click the link below to choose a new password.", "Reset password", "If you did not ask to reset your password, you can ignore this email."},
	"es":    {"Restablece tu contraseña de %s", "Restablece tu contraseña de %s", "Haz clic en el enlace de abajo para elegir una contraseña nueva.", "Restablecer contraseña", "Si no pediste restablecer tu contraseña, puedes ignorar este correo."},
	"pt-br": {"Redefina sua senha de %s", "Redefinição de senha de %s", "Clique no link abaixo para escolher uma nova senha.", "Redefinir senha", "Se você não pediu para redefinir sua senha, pode ignorar este e-mail."},
	"fr":    {"Réinitialisez votre mot de passe %s", "Réinitialisation du mot de passe %s", "Cliquez sur le lien ci-dessous pour choisir un nouveau mot de passe.", "Réinitialiser le mot de passe", "Si vous n'avez pas demandé à réinitialiser votre mot de passe, vous pouvez ignorer cet e-mail."},
}

// otpEmailCopy is the email carrying a one-time passcode (login and signup
// alike). line takes the project name, then the code.
type otpEmailCopy struct{ subject, heading, line, footer string }

var otpEmail = map[string]otpEmailCopy{
	"en":    {"Your verification code for %s", "Your %s verification code", "Your %[1]s verification code is %[2]s.", "If you did not ask for it, you can ignore this email."},
	"es":    {"Tu código de verificación de %s", "Tu código de verificación de %s", "Tu código de verificación de %[1]s es %[2]s.", "Si no lo pediste, puedes ignorar este correo."},
	"pt-br": {"Seu código de verificação para %s", "Seu código de verificação para %s", "Seu código de verificação para %[1]s é %[2]s.", "Se você não pediu este código, pode ignorar este e-mail."},
	"fr":    {"Votre code de vérification pour %s", "Votre code de vérification pour %s", "Votre code de vérification pour %[1]s est %[2]s.", "Si vous ne l'avez pas demandé, vous pouvez ignorer cet e-mail."},
}

// emailLang is what every email in one language shares.
type emailLang struct {
	lang    string // the HTML lang attribute
	app     string // stands in for an empty project name
	linkExp string // "It expires in %s." after a link
	codeExp string // the same after a code
	paste   string // above the plain link in the HTML body
	units   units
	// passwordless labels the login link a password reset email also offers.
	passwordless string
}

var emailCopy = map[string]emailLang{
	"en":    {"en", "your app", "It expires in %s.", "It expires in %s.", "Or paste this link into your browser:", units{"minute", "minutes", "hour", "hours", "day", "days"}, "Log in without a password"},
	"es":    {"es", "tu aplicación", "El enlace caduca en %s.", "El código caduca en %s.", "O pega este enlace en tu navegador:", units{"minuto", "minutos", "hora", "horas", "día", "días"}, "Iniciar sesión sin contraseña"},
	"pt-br": {"pt-BR", "seu app", "O link expira em %s.", "O código expira em %s.", "Ou cole este link no seu navegador:", units{"minuto", "minutos", "hora", "horas", "dia", "dias"}, "Entrar sem senha"},
	"fr":    {"fr", "votre application", "Le lien expire dans %s.", "Le code expire dans %s.", "Ou collez ce lien dans votre navigateur\u00a0:", units{"minute", "minutes", "heure", "heures", "jour", "jours"}, "Se connecter sans mot de passe"},
}
