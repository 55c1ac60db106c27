/**
 * DO NOT EDIT: generated from openapi.yaml by `npm run codegen`.
 * Change openapi.yaml and regenerate; `npm test` fails while this file is stale.
 */

export type paths = {
    "/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe
         * @description Answers 200 while the process is up and serving HTTP; it checks nothing else, so a
         *     restart is the right response only when this fails. Needs no authentication, is never
         *     throttled and is answered whatever the Host header (probes address the container by IP).
         */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Whether this instance can serve requests: the database answers, and so do Redis and the
         *     SMTP server when they are configured (REDIS_URL, EMAIL_HOST). `checks` names each
         *     dependency checked; one that is not configured is absent. The SMTP check is cached for a
         *     few seconds so that frequent probes do not open a mail connection each. Needs no
         *     authentication, is never throttled and is answered whatever the Host header.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The users the caller may see
         * @description The caller only, as a list (there are no staff accounts).
         */
        get: operations["listUsers"];
        put?: never;
        /**
         * Sign up
         * @description Creates an account. Emails are case-insensitive and unique.
         */
        post: operations["createUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/me/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The current user */
        get: operations["getMe"];
        /**
         * Update the current user
         * @description No field is writable here, as in djoser, where the email (the username) changes through
         *     `POST /auth/users/change_username/`: the answer is the user. A body that names another
         *     `email` or `id` than the account's is 400 `invalid_data` naming the field.
         */
        put: operations["updateMe"];
        post?: never;
        /**
         * Delete the account
         * @description Deletes the user with everything it owns: its device, prekeys, signed prekey, the messages
         *     queued for it, its 2FA methods and all its sessions.
         */
        delete: operations["deleteMe"];
        options?: never;
        head?: never;
        /**
         * Update the current user partly
         * @description As `PUT /auth/users/me/`.
         */
        patch: operations["patchMe"];
        trace?: never;
    };
    "/auth/users/set_password/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the password
         * @description Changes the password. Every other session of the user is revoked; this one stays.
         */
        post: operations["setPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/change_username/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the email (djoser's set username)
         * @description The email is the account's username. With the current password, changes it to `new_email`;
         *     a wrong password counts toward the per-account login lockout. With `EMAIL_VERIFICATION=off`
         *     the change is made now (204) and the old address is mailed a notice naming the new one and
         *     the time. With `EMAIL_VERIFICATION=on` the new address is mailed a link to
         *     `<PUBLIC_URL>/auth/activate/<uid>/<token>/` (valid for `PASSWORD_RESET_TIMEOUT`) and the answer
         *     is 202 `verification_sent`: the email changes (and the old address gets the notice) only when
         *     the link is used, and until then login keeps working with the old address. From the change
         *     on, logins, reset mails, 2FA codes and device alerts use the new address; reset links mailed
         *     before it stop working.
         */
        post: operations["changeEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/confirm/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Activate the account, or confirm a new email (djoser's activation)
         * @description Takes the `uid` and `token` of an emailed link (`<PUBLIC_URL>/auth/activate/<uid>/<token>/`).
         *     A sign-up link (`EMAIL_VERIFICATION=on`, valid for `UNVERIFIED_ACCOUNT_TTL`) activates the
         *     account; using it again answers 403 `already_active`. An email-change link (valid for
         *     `PASSWORD_RESET_TIMEOUT`) makes the new address the account's; it works once. 400
         *     `email_exists` when another account took the new address meanwhile.
         */
        post: operations["activateAccount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/activate/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Activate the account (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `POST /auth/users/confirm/` at the path djoser 1.7 kept for older clients.
         */
        post: operations["activateAccountLegacy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/resend/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mail a fresh activation link
         * @description Answers 204 whether or not the email is registered; an account that is not active yet is
         *     mailed a fresh link (at most `LOCKOUT_THRESHOLD` mails per account per `LOCKOUT_DURATION`,
         *     shared with reset mails). With `EMAIL_VERIFICATION=off` it answers 400 `activation_disabled`.
         */
        post: operations["resendActivation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/create/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign up (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `POST /auth/users/` at the path djoser 1.7 kept for older clients.
         */
        post: operations["createUserLegacy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/delete/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Delete the account (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `DELETE /auth/users/me/` at the path (and method) djoser 1.7 kept for older clients.
         */
        post: operations["deleteMeLegacy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/users/{id}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        /**
         * A user, by id
         * @description The caller's own id answers as `GET /auth/users/me/`; any other id is 404 `not_found`.
         */
        get: operations["getUser"];
        /**
         * Update a user, by id
         * @description The caller's own id answers as `PUT /auth/users/me/`; any other id is 404 `not_found`.
         */
        put: operations["updateUser"];
        post?: never;
        /**
         * Delete a user, by id
         * @description The caller's own id answers as `DELETE /auth/users/me/`; any other id is 404 `not_found`.
         */
        delete: operations["deleteUser"];
        options?: never;
        head?: never;
        /**
         * Update a user partly, by id
         * @description The caller's own id answers as `PATCH /auth/users/me/`; any other id is 404 `not_found`.
         */
        patch: operations["patchUser"];
        trace?: never;
    };
    "/auth/me/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The current user (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `GET /auth/users/me/` at the path djoser 1.7 kept for older clients.
         */
        get: operations["getMeLegacy"];
        /**
         * Update the current user (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `PUT /auth/users/me/` at the path djoser 1.7 kept for older clients.
         */
        put: operations["updateMeLegacy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/email/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the email (djoser 1.7's backward-compatible path)
         * @deprecated
         * @description `POST /auth/users/change_username/` at the path djoser 1.7 kept for older clients (`/<USERNAME_FIELD>/`).
         */
        post: operations["changeEmailLegacy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/password/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the password (djoser 1.7's path)
         * @deprecated
         * @description `POST /auth/users/set_password/` at the path djoser 1.7 documents.
         */
        post: operations["setPasswordLegacy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/login/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log in
         * @description Without an active 2FA method the answer carries an `auth_token`. With one, it carries an
         *     `ephemeral_token` and the primary method; for the `email` method the code is mailed now.
         *     Complete the login with `POST /auth/login/code/`. With `deviceId`, the token is bound to that
         *     device of the account: it acts for that device only. An id the account does not have answers
         *     404 `no_device`, and only once the password (and the 2FA code) was right.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/login/code/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Complete a 2FA login
         * @description Exchanges the ephemeral token from `POST /auth/login/` and a code for an auth token. The code
         *     may be a current code of any active method or an unused backup code. `deviceId` binds the token
         *     as for `POST /auth/login/` (given there or here; here wins).
         */
        post: operations["loginCode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/logout/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log out
         * @description Revokes the token used for this request at once. Other sessions stay.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/password/reset/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Request a password reset email
         * @description Always answers 204, whether or not the email is registered. A registered user is mailed a
         *     link to `<PUBLIC_URL>/auth/password/reset/confirm/<uid>/<token>/`.
         */
        post: operations["resetPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/password/reset/confirm/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password with a reset token
         * @description The token works once, expires, and dies when the password changes. On success every session
         *     of the user is revoked.
         */
        post: operations["resetPasswordConfirm"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/password/reset/confirm/{uid}/{token}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The reset token from the reset link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ResetToken"];
            };
            cookie?: never;
        };
        /**
         * Password reset page
         * @description The page the emailed link opens, with a form for the new password.
         */
        get: operations["resetPasswordPage"];
        put?: never;
        /**
         * Submit the password reset page
         * @description Completes the reset from the page's form and shows the result as a page.
         */
        post: operations["resetPasswordPageSubmit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/activate/{uid}/{token}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The token from the emailed link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ActivationToken"];
            };
            cookie?: never;
        };
        /**
         * Activation page
         * @description The page the emailed link (sign-up, or a new email to confirm) opens: a button that posts
         *     back to it. Opening the link changes nothing, so a mail scanner that fetches links cannot
         *     activate an account.
         */
        get: operations["activationPage"];
        put?: never;
        /**
         * Submit the activation page
         * @description Completes the activation or the email change as `POST /auth/users/confirm/` does, and shows the result as a page.
         */
        post: operations["activationPageSubmit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{method}/activate/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start activating a 2FA method
         * @description For `app`, answers a standard `otpauth://totp/` URI and a QR picture of it. For `email`,
         *     mails a 6-digit code valid for 10 minutes. The method is active once confirmed.
         */
        post: operations["activateMfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{method}/activate/confirm/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm a 2FA method
         * @description Activates the method with a code from it. The first confirmed method becomes primary.
         */
        post: operations["confirmMfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{method}/deactivate/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Deactivate a 2FA method
         * @description Needs a current code of that method. When the primary method is deactivated, another active
         *     method (if any) becomes primary.
         */
        post: operations["deactivateMfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/{method}/codes/regenerate/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Regenerate backup codes
         * @description Issues new backup codes for the method; the old ones stop working.
         */
        post: operations["regenerateBackupCodes"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/code/request/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Request a fresh 2FA code
         * @description Mails a fresh code for the `email` method, active or still pending confirmation (to resend the activation code). The `app` method needs none.
         */
        post: operations["requestMfaCode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/mfa/config/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * 2FA configuration
         * @description The methods this server offers and how their codes work.
         */
        get: operations["getMfaConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/mfa/user-active-methods/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The user's active 2FA methods */
        get: operations["getActiveMfaMethods"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/mfa/change-primary-method/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the primary 2FA method
         * @description Makes another active method primary. `code` is a current code of the current primary method.
         */
        post: operations["changePrimaryMfaMethod"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/device/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Register the caller's device
         * @description Registers the account's first device with its identity key, signed prekey and one-time prekeys,
         *     and optionally its post-quantum (Kyber) prekeys; an account that has any device answers 403
         *     `device_exists` (add more devices with `POST /v2/devices/`). Every signature is checked against
         *     `identityKey` first; one that does not verify answers 400 `invalid_signature`, naming the
         *     field, and nothing is stored.
         */
        post: operations["createDevice"];
        /**
         * Delete the caller's device
         * @description Deletes the device with its keys and the messages queued for it, as `DELETE /v2/devices/{deviceId}/`
         *     does. With a token bound to a device, that device; otherwise the account's only device, and
         *     409 `several_devices` when it has more. It takes no body.
         */
        delete: operations["deleteDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/prekeys/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        /**
         * Count the prekeys left
         * @description The exact number of one-time prekeys (`count`) and one-time Kyber prekeys (`pqCount`) the
         *     server still holds for the caller's device; the last-resort Kyber prekey is not counted.
         *     Upload more when either falls low: every bundle handed out takes one of each.
         */
        get: operations["getPreKeyCount"];
        put?: never;
        /**
         * Upload one-time prekeys
         * @description Stores more one-time prekeys, all or none: nothing is stored when the stored count would pass
         *     the limit (100 by default) or a keyId repeats, in the body or against a stored key.
         */
        post: operations["uploadPreKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/signedprekey/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace the signed prekey
         * @description Replaces the device's signed prekey. The signature must verify against the device's stored
         *     identity key (400 `invalid_signature` otherwise, and the old signed prekey stays).
         */
        post: operations["replaceSignedPreKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/pqprekeys/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload Kyber prekeys
         * @description Stores more one-time Kyber prekeys and, with `pqLastResortPreKey`, replaces the last-resort
         *     one. All or none, with the same rules as `POST /prekeys/`: nothing is stored when the stored
         *     count of one-time Kyber prekeys would pass the limit (100 by default), a keyId repeats, or a
         *     signature does not verify against the device's identity key. At least one key must be sent.
         */
        post: operations["uploadPqPreKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/keys/check/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Check that the server holds the caller's keys
         * @description Lets a client confirm that the server's copy of its identity key, signed prekey and
         *     last-resort Kyber prekey is the one it holds itself. The client sends `digest`, the
         *     SHA-256 of these bytes, concatenated:
         *
         *     1. the identity key, serialized (33 bytes: 0x05, then the key);
         *     2. the signed prekey's `keyId` as an unsigned 64-bit big-endian integer (8 bytes);
         *     3. the signed prekey's public key, serialized (33 bytes);
         *     4. only when the device has a last-resort Kyber prekey: its `keyId` as an unsigned 64-bit
         *        big-endian integer (8 bytes), then its public key, serialized (1569 bytes: 0x08, then
         *        the key).
         *
         *     The server computes the same digest over what it stores and answers 200 `keys_match` or
         *     409 `keys_mismatch`. On a mismatch the client should upload its keys again (a new signed
         *     prekey, a new last-resort Kyber prekey) or, if its identity key differs, register anew.
         */
        post: operations["checkKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/prekeybundle/{recipientEmail}/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        /**
         * Claim a prekey bundle
         * @description Answers the keys of the recipient's lowest-numbered device for starting a session (for every
         *     device, use `GET /v2/keys/{recipientEmail}/*\/`). The one-time prekey it carries is
         *     deleted in the same transaction, so no two callers ever get the same one; when none is left
         *     the bundle comes without `preKey`. `pqPreKey` is a one-time Kyber prekey, taken the same way,
         *     or, when none is left, the last-resort one (`lastResort: true`), which is kept; a device that
         *     never uploaded Kyber prekeys gets a bundle without it. Limited per user
         *     (`THROTTLE_PREKEYBUNDLE`).
         */
        get: operations["getPreKeyBundle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/messages/{registrationId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        /**
         * Fetch queued messages
         * @description The messages queued for the caller's device, oldest first. They stay until deleted or until they expire (MESSAGE_TTL).
         */
        get: operations["getMessages"];
        put?: never;
        /**
         * Send an encrypted message
         * @description Queues a message for one device of the recipient: the one whose registration ID equals the
         *     `registrationId` in `message`, the client's serialized ciphertext (a JSON string); 403
         *     `recipient_identity_changed` when no device of the recipient has it. To reach every device of
         *     an account, use `PUT /v2/messages/{recipientEmail}/`. A queued message
         *     expires MESSAGE_TTL seconds (default 30 days) after it was sent: it is then no longer
         *     delivered and is deleted. A device queue holds at most MAX_QUEUED_MESSAGES (default 10,000);
         *     a send to a full queue is refused with 409 `recipient_queue_full`, never dropped.
         */
        post: operations["sendMessage"];
        /**
         * Delete fetched messages
         * @description Deletes messages from the caller's queue. The answer has one entry per id, in order; an id
         *     that does not exist and one queued for someone else get the same answer.
         */
        delete: operations["deleteMessages"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/messages/{registrationId}/websocket/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        /**
         * Receive messages over a WebSocket
         * @description Upgrades to a WebSocket (`GET` with `Upgrade: websocket`) that pushes the caller's device its
         *     messages: first those queued, oldest first, then a `queue_empty` frame, then each new message
         *     as it is stored, through whichever instance. The client acknowledges messages with
         *     `{"type":"ack","ids":[...]}`, which deletes them; a message not acknowledged stays queued and
         *     is sent again on the next connection (at-least-once: drop duplicates by `id`). The frames
         *     and close codes are described in `asyncapi.yaml`.
         *
         *     Authentication is that of every operation, checked before the upgrade, so a refusal is an
         *     ordinary HTTP answer: the token as `Authorization: Bearer` (or, from a browser, the
         *     `bearer.<token>` subprotocol entry), and for a device with a `signingKey` a signed request:
         *     `Signature` over `<counter>` LF `GET` LF `<path as sent>` LF (no body), or the
         *     `signature.` subprotocol entry. A token alone cannot open the socket of a signing device.
         *
         *     A second connection for the same device closes the first with code 4409. Logout, a
         *     password change or reset, or deleting the device or the account closes the socket at
         *     once (4401 or 4404), on every instance. The server pings every `WS_HEARTBEAT_INTERVAL`
         *     seconds and drops a connection that did not answer the previous ping. Polling with `GET`
         *     and `DELETE /messages/{registrationId}/` works alongside. A plain `GET` without the upgrade
         *     answers 426.
         */
        get: operations["openMessageSocket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/devices/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The account's devices
         * @description Every device of the caller's account, ordered by `deviceId`. Works with any token of the account.
         */
        get: operations["listDevices"];
        put?: never;
        /**
         * Add a device to the account
         * @description Registers one more device of the caller's account, with its own registration ID, identity key,
         *     signed prekey, one-time prekeys and optionally Kyber prekeys and a request-signing key. Works
         *     with any token of the account. The server numbers the device (`deviceId`): one more than the
         *     highest the account ever had, so an id is never reused. The answer carries a token bound to
         *     the new device. The account is mailed ("a new device was added", its name and the time) and
         *     its other connected devices get a `devices_changed` frame. An account holds at most
         *     `MAX_DEVICES` devices (default 6); two registrations racing at the cap never pass it.
         *     Signatures are checked against this device's `identityKey`, as for `POST /device/`.
         */
        post: operations["addDevice"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/devices/{deviceId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The number of a device of the caller's account. */
                deviceId: components["parameters"]["DeviceId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a device of the account
         * @description Removes the device at once: its keys and its queued messages are deleted, the sessions bound
         *     to it end (401 afterwards), its socket closes with 4404, and the account's other connected
         *     devices get a `devices_changed` frame. The body carries the account's password, which the
         *     per-account lockout counts; a token bound to that same device may remove it without one. A
         *     device that registered a `signingKey` signs the request like its other device operations
         *     (with a bound token: the bound device's key), so its token alone cannot remove it.
         */
        delete: operations["removeDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/keys/{recipientEmail}/{deviceId}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
                /** @description One device of the recipient by its `deviceId`, or `*` for all of them. */
                deviceId: string;
            };
            cookie?: never;
        };
        /**
         * Claim prekey bundles for one or all devices of an account
         * @description For each device asked for: its identity key, signed prekey, and one one-time EC prekey and one
         *     one-time Kyber prekey (or, when none is left, the last-resort Kyber key) claimed atomically, as
         *     `GET /prekeybundle/` does for one device; a claimed one-time key is never handed out twice.
         *     Works with any token. `*` leaves out the device a bound token acts for (a device syncing its
         *     account's other devices does not use up its own keys). `THROTTLE_PREKEYBUNDLE` counts one per
         *     request, whatever the number of devices.
         */
        get: operations["getDeviceKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/messages/{recipientEmail}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Send one message to every device of an account
         * @description Needs a token bound to the sending device (from `POST /v2/devices/`, or a login with
         *     `deviceId`); an unbound one answers 403 `device_required`. The body carries one ciphertext per
         *     device of the recipient, which the server does not parse. The set of `deviceId`s must be the
         *     recipient's current devices, minus the sending device when writing to one's own account (how a
         *     device syncs its other devices): otherwise 409 `mismatched_devices` with `missingDevices` and
         *     `extraDevices`. Every `registrationId` must be its device's: otherwise 410 `stale_devices` with
         *     `staleDevices`. All or nothing: nothing is stored unless every message is, also when a device
         *     is removed during the send. Each stored message is pushed to its device's socket.
         */
        put: operations["sendMessages"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/provisioning/websocket/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Wait for a linking message
         * @description A WebSocket for linking a new device with the account's shared identity key, opened with any
         *     token of the account and authenticated as the message socket is. The server sends
         *     `{"type":"provisioning_address","address":"<random>"}` first; the new device shows the
         *     address to an existing device, which seals the key material and `PUT`s it to
         *     `/v2/provisioning/{address}/`. The socket gets at most one `provisioning_message` and is then
         *     closed with 1000. An address lives while its socket is open, 10 minutes at most. The frames
         *     are described in `asyncapi.yaml`. A plain `GET` without the upgrade answers 426.
         */
        get: operations["openProvisioningSocket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/provisioning/{address}/": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The address a provisioning socket of the same account was given. */
                address: string;
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Hand sealed key material to a provisioning socket
         * @description Delivers `body` to the provisioning socket with that address, on whichever instance, and
         *     answers 204 once it was sent. Only within one account: an address of another account and one
         *     that does not exist (or closed) answer the same 404 `no_provisioning_socket`. The server
         *     relays the bytes and never reads them: seal them for the new device.
         */
        put: operations["sendProvisioningMessage"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        Liveness: {
            /** @constant */
            status: "ok";
        };
        Readiness: {
            /**
             * @description `ok` only when every check is `ok`.
             * @enum {string}
             */
            status: "ok" | "unavailable";
            checks: {
                database: components["schemas"]["CheckResult"];
                /** @description Present when REDIS_URL is set: answers PING. */
                redis?: components["schemas"]["CheckResult"];
                /** @description Present when EMAIL_HOST is set: accepts a connection (and the login, if configured). */
                smtp?: components["schemas"]["CheckResult"];
            };
        };
        /** @enum {string} */
        CheckResult: "ok" | "down";
        /**
         * @description A stable, machine-readable error code. Each error response lists the codes it can carry;
         *     this is all of them.
         *     - `invalid_data`: The body, a parameter or a rule for a field is broken; `errors` names each field.
         *     - `parse_error`: The body is not valid JSON, or empty with a JSON Content-Type.
         *     - `invalid_host`: The Host header is not in `ALLOWED_HOSTS`.
         *     - `bad_request`: The request is not valid HTTP, or broken in a way no other code names.
         *     - `email_exists`: A user with that email already exists.
         *     - `invalid_credentials`: Wrong email or password (indistinguishable), or the account is locked.
         *     - `invalid_password`: The current password is wrong.
         *     - `invalid_token`: The reset link or ephemeral 2FA token is invalid, used or expired.
         *     - `invalid_code`: The 2FA or backup code is invalid, used or expired.
         *     - `method_not_active`: The 2FA method is not active.
         *     - `method_already_active`: The 2FA method is already active.
         *     - `invalid_signature`: A signature does not verify against the identity key.
         *     - `reached_max_prekeys`: The upload would store more than `MAX_PREKEYS` one-time prekeys of its kind.
         *     - `prekey_id_exists`: A one-time prekey with that keyId is already stored.
         *     - `invalid_recipient_email`: The recipient email is not a valid email address.
         *     - `invalid_message`: The message is not a JSON object with the recipient's integer `registrationId`.
         *     - `not_authenticated`: The token is missing, invalid, expired or revoked.
         *     - `invalid_request_signature`: The device signs its requests and this one is not signed right.
         *     - `device_exists`: The caller already has a device.
         *     - `device_changed`: The path's registration ID is not the caller's device's.
         *     - `recipient_identity_changed`: The message was encrypted for another device of the recipient.
         *     - `no_device`: The caller has no device.
         *     - `no_recipient`: No user has that email.
         *     - `no_recipient_device`: The recipient has no device.
         *     - `keys_mismatch`: The server holds different keys than the client.
         *     - `recipient_queue_full`: The recipient's device already holds `MAX_QUEUED_MESSAGES` undelivered messages.
         *     - `not_found`: No such resource.
         *     - `method_not_allowed`: The path exists, but not with this method; `Allow` lists those it has.
         *     - `request_timeout`: The request did not arrive whole within `REQUEST_TIMEOUT`.
         *     - `request_too_large`: The body is larger than the server accepts.
         *     - `message_too_large`: The message is over `MAX_MESSAGE_BYTES`.
         *     - `unsupported_media_type`: The body is not of a type the operation takes.
         *     - `upgrade_required`: The operation only upgrades to a WebSocket.
         *     - `headers_too_large`: The request headers are too large.
         *     - `throttled`: Too many requests; retry after `Retry-After` seconds.
         *     - `too_many_devices`: The account already has `MAX_DEVICES` devices.
         *     - `registration_id_in_use`: Another device of the account has that registration ID.
         *     - `several_devices`: The token is not bound to a device and the account has several; name the device.
         *     - `device_required`: The operation needs a token bound to a device.
         *     - `mismatched_devices`: The messages do not cover exactly the recipient's current devices; `missingDevices` and `extraDevices` say how.
         *     - `stale_devices`: Some devices were registered anew with another registration ID; `staleDevices` names them.
         *     - `no_provisioning_socket`: No open provisioning socket of the account has that address.
         *     - `inactive_account`: The password is right, but the account is not activated yet (`EMAIL_VERIFICATION=on`).
         *     - `already_active`: The account is already active.
         *     - `activation_disabled`: Email verification is off (`EMAIL_VERIFICATION=off`): there is nothing to resend.
         *     - `server_error`: The server failed; details are in its log, never in the answer.
         *     - `service_unavailable`: The database could not be reached (or, on SQLite, stayed locked by another process); nothing was changed. Retry after `Retry-After` seconds.
         * @enum {string}
         */
        ErrorCode: "invalid_data" | "parse_error" | "invalid_host" | "bad_request" | "email_exists" | "invalid_credentials" | "invalid_password" | "invalid_token" | "invalid_code" | "method_not_active" | "method_already_active" | "invalid_signature" | "reached_max_prekeys" | "prekey_id_exists" | "invalid_recipient_email" | "invalid_message" | "not_authenticated" | "invalid_request_signature" | "device_exists" | "device_changed" | "recipient_identity_changed" | "no_device" | "no_recipient" | "no_recipient_device" | "keys_mismatch" | "recipient_queue_full" | "not_found" | "method_not_allowed" | "request_timeout" | "request_too_large" | "message_too_large" | "unsupported_media_type" | "upgrade_required" | "headers_too_large" | "throttled" | "server_error" | "service_unavailable" | "too_many_devices" | "registration_id_in_use" | "several_devices" | "device_required" | "mismatched_devices" | "stale_devices" | "no_provisioning_socket" | "inactive_account" | "already_active" | "activation_disabled";
        Error: {
            code: components["schemas"]["ErrorCode"];
            /** @description A human-readable explanation. */
            message: string;
            /** @description Each invalid field, for `invalid_data`. */
            errors?: {
                /** @description Where the problem is, e.g. `body.preKeys[0].keyId`. */
                field: string;
                message: string;
            }[];
        };
        Status: {
            code: string;
            message: string;
        };
        /**
         * Format: email
         * @example alice@example.com
         */
        Email: string;
        /** @example correct-horse-battery */
        Password: string;
        Credentials: {
            email: components["schemas"]["Email"];
            password: components["schemas"]["Password"];
        };
        EmailOnly: {
            email: components["schemas"]["Email"];
        };
        User: {
            id: number;
            email: components["schemas"]["Email"];
        };
        DeleteAccount: {
            currentPassword: components["schemas"]["Password"];
        };
        ChangeEmail: {
            new_email: components["schemas"]["Email"];
            current_password: components["schemas"]["Password"];
        };
        UidAndToken: {
            uid: string;
            token: string;
        };
        /** @description The user's fields, all read-only; each given one must equal the account's. */
        UserUpdate: {
            id?: number;
            email?: components["schemas"]["Email"];
        };
        SetPassword: {
            current_password: components["schemas"]["Password"];
            new_password: components["schemas"]["Password"];
        };
        ResetConfirm: {
            uid: string;
            token: string;
            new_password: components["schemas"]["Password"];
        };
        AuthToken: {
            /** @description Send as `Authorization: Bearer <auth_token>`. */
            auth_token: string;
        };
        MfaChallenge: {
            /** @description Valid for 10 minutes, only for `POST /auth/login/code/`. */
            ephemeral_token: string;
            method: components["schemas"]["MfaMethodName"];
        };
        /** @enum {string} */
        MfaMethodName: "email" | "app";
        /** @description A 6-digit code (as a string, or as an integer that is left-padded with zeros) or a backup code. */
        Code: string | number;
        CodeOnly: {
            code: components["schemas"]["Code"];
        };
        LoginCode: {
            ephemeral_token: string;
            code: components["schemas"]["Code"];
            deviceId?: components["schemas"]["DeviceId"];
        };
        QrCode: {
            /** @description An `otpauth://totp/` URI: 30 s step, 6 digits, SHA-1. */
            qr_link: string;
            /** @description A `data:image/png;base64,...` QR picture of `qr_link`. */
            qr_code: string;
        };
        BackupCodes: {
            backup_codes: string[];
        };
        ActiveMethod: {
            name: components["schemas"]["MfaMethodName"];
            is_primary: boolean;
        };
        MfaConfig: {
            methods: components["schemas"]["MfaMethodName"][];
            application_issuer_name: string;
            backup_codes_count: number;
            allow_backup_codes_regeneration: boolean;
            email_code_validity_seconds: number;
            totp: {
                digits: number;
                period: number;
                algorithm: string;
            };
        };
        /** @example 4321 */
        RegistrationId: number;
        /**
         * @description Chosen by the client, unique per device among its stored keys of one kind. libsignal's key IDs are 32-bit; Signal's apps draw them below 2^24. Stored as a signed 32-bit integer.
         * @example 1
         */
        KeyId: number;
        /**
         * @description A Curve25519 public key as libsignal serializes it (type byte 0x05, then 32 bytes), base64.
         * @example BQpYJ1Lsr9qh4J1LSTmo4Hc2x6bdUR0M2+VXRa5nZ5cH
         */
        PublicKey: string;
        /**
         * @description A 64-byte XEdDSA signature, base64.
         * @example 2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg==
         */
        Signature: string;
        PreKey: {
            keyId: components["schemas"]["KeyId"];
            publicKey: components["schemas"]["PublicKey"];
        };
        SignedPreKey: {
            keyId: components["schemas"]["KeyId"];
            publicKey: components["schemas"]["PublicKey"];
            /** @description The identity key's XEdDSA signature over the serialized public key (33 bytes). */
            signature: components["schemas"]["Signature"];
        };
        /** @description A Kyber-1024 public key as libsignal serializes it (type byte 0x08, then 1568 bytes), base64. */
        KyberPublicKey: string;
        KyberPreKey: {
            keyId: components["schemas"]["KeyId"];
            publicKey: components["schemas"]["KyberPublicKey"];
            /** @description The identity key's XEdDSA signature over the serialized public key (1569 bytes). */
            signature: components["schemas"]["Signature"];
        };
        /** @description One-time Kyber prekeys, at most 100 per request. */
        KyberPreKeys: components["schemas"]["KyberPreKey"][];
        PqPreKeyUpload: {
            pqPreKeys: components["schemas"]["KyberPreKeys"];
            pqLastResortPreKey?: components["schemas"]["KyberPreKey"];
        };
        BundledKyberPreKey: {
            keyId: components["schemas"]["KeyId"];
            publicKey: components["schemas"]["KyberPublicKey"];
            signature: components["schemas"]["Signature"];
            /** @description True for the last-resort prekey, which stays stored and may be handed out again. */
            lastResort: boolean;
        };
        PreKeyCount: {
            /** @description One-time prekeys left. */
            count: number;
            /** @description One-time Kyber prekeys left (the last-resort one not counted). */
            pqCount: number;
        };
        KeyCheck: {
            /** @description The SHA-256 digest defined in `checkKeys`, base64 (32 bytes). */
            digest: string;
        };
        DeviceCreate: {
            /**
             * @description The device's Signal protocol address as the client names it; the server stores it and hands it
             *     back as the bundle's `address` and each message's `senderAddress`, never interpreting it. Any
             *     characters but U+0000 (which PostgreSQL cannot store). A useful convention, used by the test
             *     clients: `<email>.<deviceId>` (deviceId 1, one device per account), which maps to libsignal's
             *     `ProtocolAddress(name, deviceId)`.
             */
            address: string;
            identityKey: components["schemas"]["PublicKey"];
            registrationId: components["schemas"]["RegistrationId"];
            preKeys: components["schemas"]["PreKey"][];
            signedPreKey: components["schemas"]["SignedPreKey"];
            pqPreKeys?: components["schemas"]["KyberPreKeys"];
            pqLastResortPreKey?: components["schemas"]["KyberPreKey"];
            /**
             * @description Opt-in request signing: a raw 32-byte Ed25519 public key, base64, held by the device only.
             *     It must be a valid curve point of large order (400 `invalid_data` otherwise).
             *     With it, every key, message and device operation of this device must carry a `Signature`
             *     header (see that parameter), so a stolen auth token alone cannot act for the device.
             */
            signingKey?: string;
        };
        PreKeyBundle: {
            address: string;
            identityKey: components["schemas"]["PublicKey"];
            registrationId: components["schemas"]["RegistrationId"];
            signedPreKey: components["schemas"]["SignedPreKey"];
            preKey?: components["schemas"]["PreKey"];
            pqPreKey?: components["schemas"]["BundledKyberPreKey"];
        };
        /**
         * @description The server's number for a device within its account; 1 for the account's first device, never reused.
         * @example 2
         */
        DeviceId: number;
        /** @description Opaque to the server; clients may encrypt it. At most 100 characters, any but U+0000 (which PostgreSQL cannot store). */
        DeviceName: string;
        DeviceCreated: {
            /** @constant */
            code: "device_created";
            message: string;
            deviceId: components["schemas"]["DeviceId"];
        };
        DeviceAdd: {
            /**
             * @description The device's Signal protocol address as the client names it; the server stores it and hands it
             *     back as the bundle's `address` and each message's `senderAddress`, never interpreting it. Any
             *     characters but U+0000 (which PostgreSQL cannot store). A useful convention, used by the test
             *     clients: `<email>.<deviceId>` (deviceId 1, one device per account), which maps to libsignal's
             *     `ProtocolAddress(name, deviceId)`.
             */
            address: string;
            identityKey: components["schemas"]["PublicKey"];
            registrationId: components["schemas"]["RegistrationId"];
            preKeys: components["schemas"]["PreKey"][];
            signedPreKey: components["schemas"]["SignedPreKey"];
            pqPreKeys?: components["schemas"]["KyberPreKeys"];
            pqLastResortPreKey?: components["schemas"]["KyberPreKey"];
            /**
             * @description Opt-in request signing: a raw 32-byte Ed25519 public key, base64, held by the device only.
             *     It must be a valid curve point of large order (400 `invalid_data` otherwise).
             *     With it, every key, message and device operation of this device must carry a `Signature`
             *     header (see that parameter), so a stolen auth token alone cannot act for the device.
             */
            signingKey?: string;
            name?: components["schemas"]["DeviceName"];
        };
        DeviceAdded: {
            deviceId: components["schemas"]["DeviceId"];
            /** @description Bound to the new device. Send as `Authorization: Bearer <auth_token>`. */
            auth_token: string;
        };
        Device: {
            deviceId: components["schemas"]["DeviceId"];
            registrationId: components["schemas"]["RegistrationId"];
            name: components["schemas"]["DeviceName"] | null;
            /** Format: date-time */
            created: string;
            /**
             * Format: date-time
             * @description The day (UTC midnight) the device last used the server.
             */
            lastSeen: string;
        };
        DeviceList: {
            devices: components["schemas"]["Device"][];
        };
        RemoveDevice: {
            currentPassword?: components["schemas"]["Password"];
        };
        DeviceBundle: {
            deviceId: components["schemas"]["DeviceId"];
            registrationId: components["schemas"]["RegistrationId"];
            address: string;
            identityKey: components["schemas"]["PublicKey"];
            signedPreKey: components["schemas"]["SignedPreKey"];
            preKey?: components["schemas"]["PreKey"];
            pqPreKey?: components["schemas"]["BundledKyberPreKey"];
        };
        DeviceKeys: {
            devices: components["schemas"]["DeviceBundle"][];
        };
        MultiSend: {
            messages: {
                deviceId: components["schemas"]["DeviceId"];
                registrationId: components["schemas"]["RegistrationId"];
                /** @description The ciphertext for that device (base64 or any text but U+0000, which PostgreSQL cannot store), at most `MAX_MESSAGE_BYTES` bytes (UTF-8); not parsed. */
                content: string;
            }[];
            timestamp?: components["schemas"]["Timestamp"];
        };
        /** @description The sender's clock in ms since the epoch, delivered as given. */
        Timestamp: number;
        MultiSent: {
            messages: {
                deviceId: components["schemas"]["DeviceId"];
                id: components["schemas"]["MessageId"];
            }[];
        };
        DeviceIds: components["schemas"]["DeviceId"][];
        ProvisioningMessage: {
            /** @description Sealed bytes, base64, at most 64 KiB decoded. */
            body: string;
        };
        Login: {
            email: components["schemas"]["Email"];
            password: components["schemas"]["Password"];
            /** @description Bind the token to this device of the account (404 `no_device` if it has none such, after the password and any 2FA code were right). */
            deviceId?: components["schemas"]["DeviceId"];
        };
        /** @example 17 */
        MessageId: number;
        MessageSend: {
            /** @description The recipient's email. */
            recipient: string;
            /** @description The serialized ciphertext: a JSON object with the recipient device's `registrationId`. At most `MAX_MESSAGE_BYTES` (64 KiB by default). */
            message: string;
        };
        /**
         * @description A queued message. `senderEmail`, `senderDeviceId` and `timestamp` (when the sender gave one)
         *     are given to a reader whose token is bound to a device (a multi-device client: a token from
         *     `POST /v2/devices/` or a login with `deviceId`), on every message it reads, over `GET` and
         *     the socket alike. A token that is not bound, as the seed's clients use, reads the seed's
         *     shape, without them; the answer to `POST /messages/` has that shape too.
         */
        Message: {
            id: components["schemas"]["MessageId"];
            senderAddress: string;
            senderRegistrationId: components["schemas"]["RegistrationId"];
            /** @description The sending account's email when the message was sent: whom to reply to. Null only for a message queued before the server knew senders by account, whose sender is gone. */
            senderEmail?: components["schemas"]["Email"] | null;
            /** @description The sending device within its account: which device to reply to. Null as for `senderEmail`. */
            senderDeviceId?: components["schemas"]["DeviceId"] | null;
            timestamp?: components["schemas"]["Timestamp"];
            recipientAddress: string;
            content: string;
            /** Format: date-time */
            created: string;
        };
        MissingMessage: {
            /** @constant */
            code: "non-existant_message";
            message: string;
        };
    };
    responses: {
        /** @description `invalid_data` (a path parameter breaks the schema) or `invalid_host` (the Host header is not in `ALLOWED_HOSTS`). */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_host",
                 *       "message": "The Host header is not allowed."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_data`: the body or a parameter breaks the schema; `errors` names each field. `parse_error`: the body is not valid JSON. */
        InvalidData: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_data",
                 *       "message": "The request is invalid.",
                 *       "errors": [
                 *         {
                 *           "field": "body.email",
                 *           "message": "must match format \"email\""
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_data` (a password rule, named in `errors`, or the schema), `email_exists`, or `parse_error`. */
        SignUpRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "email_exists",
                 *       "message": "A user with that email already exists."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "email_exists" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_credentials` (wrong email or password, indistinguishable), `inactive_account` (the password is right but the account is not activated yet), `invalid_data` or `parse_error`. */
        CredentialsRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_credentials",
                 *       "message": "Unable to log in with the provided credentials."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_credentials" | "inactive_account" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_password` (the current password is wrong), `invalid_data` (schema or a rule for the new password) or `parse_error`. */
        PasswordRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_password",
                 *       "message": "The password is wrong."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_password" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_token` (unknown user, wrong, used or expired token), `invalid_data` or `parse_error`. */
        TokenRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_token",
                 *       "message": "The reset link is invalid or has expired."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_token" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_code`, `invalid_token` (expired or wrong ephemeral token), `method_not_active` (also: confirm before activate), `method_already_active`, `invalid_data` or `parse_error`. */
        CodeRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_code",
                 *       "message": "The code is invalid or has expired."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_code" | "invalid_token" | "method_not_active" | "method_already_active" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `method_already_active` (activate), `method_not_active` (code request), `invalid_data` or `parse_error`. */
        MethodRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "method_already_active",
                 *       "message": "This 2FA method is already active."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "method_already_active" | "method_not_active" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_signature` (a signature does not verify against the identity key; `errors` names it), `reached_max_prekeys`, `prekey_id_exists`, `invalid_data` or `parse_error`. */
        KeysRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_signature",
                 *       "message": "A signature does not verify against the identity key.",
                 *       "errors": [
                 *         {
                 *           "field": "body.signedPreKey.signature",
                 *           "message": "does not verify against the identity key"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_signature" | "reached_max_prekeys" | "prekey_id_exists" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_signature` (the signature does not verify against the device's identity key), `invalid_data` or `parse_error`. */
        SignatureRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_signature",
                 *       "message": "A signature does not verify against the identity key.",
                 *       "errors": [
                 *         {
                 *           "field": "body.signature",
                 *           "message": "does not verify against the identity key"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_signature" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `reached_max_prekeys`, `prekey_id_exists`, `invalid_data` or `parse_error`. */
        PreKeysRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "reached_max_prekeys",
                 *       "message": "At most 100 prekeys can be stored."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "reached_max_prekeys" | "prekey_id_exists" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_recipient_email` or `invalid_data`. */
        RecipientRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_recipient_email",
                 *       "message": "The recipient email is not a valid email address."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_recipient_email" | "invalid_data" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_recipient_email`, `invalid_message` (not a JSON object with an integer `registrationId`), `invalid_data` or `parse_error`. */
        MessageRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_message",
                 *       "message": "The message must be a JSON object with the recipient's registrationId."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_recipient_email" | "invalid_message" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `not_authenticated`: the token is missing, invalid, expired or revoked. `invalid_request_signature`: the device signs its requests and this one is not signed right (see the `Signature` header). */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "not_authenticated",
                 *       "message": "Authentication credentials were not provided or are invalid."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "not_authenticated" | "invalid_request_signature";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `device_exists`: the caller already has a device. */
        DeviceExists: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "device_exists",
                 *       "message": "This user already has a device."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "device_exists";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `device_changed`: the path's registration ID is not the caller's device's. */
        DeviceChanged: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "device_changed",
                 *       "message": "The registration ID does not match your device."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "device_changed";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `device_changed` (the path's registration ID is not the caller's device's) or `recipient_identity_changed` (the message was encrypted for another device of the recipient). */
        MessageForbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "recipient_identity_changed",
                 *       "message": "The recipient's device has changed; fetch a new prekey bundle."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "device_changed" | "recipient_identity_changed";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `no_device`: the caller has no device. */
        NoDevice: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "no_device",
                 *       "message": "You have no registered device."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "no_device";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `no_device` (the caller has none), `no_recipient` (no such user) or `no_recipient_device` (the recipient has no device). */
        RecipientNotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "no_recipient",
                 *       "message": "No user has that email."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "no_device" | "no_recipient" | "no_recipient_device";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `no_recipient` (no such user) or `no_recipient_device` (the account has no device, or not the one asked for). */
        AccountNotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "no_recipient_device",
                 *       "message": "The recipient has no registered device."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "no_recipient" | "no_recipient_device";
                } & components["schemas"]["Error"];
            };
        };
        /**
         * @description `recipient_queue_full`: the recipient's device already holds MAX_QUEUED_MESSAGES (default
         *     10,000) undelivered messages. Nothing was stored; send again once the recipient has fetched
         *     and deleted some. Messages are never dropped to make room.
         */
        RecipientQueueFull: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "recipient_queue_full",
                 *       "message": "The recipient's device already holds 10000 undelivered messages; try again later."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "recipient_queue_full";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_password` (the current password is wrong), `email_exists` (another account has it, or it is already yours), `invalid_data` or `parse_error`. */
        EmailChangeRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "email_exists",
                 *       "message": "A user with that email already exists."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_password" | "email_exists" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_token` (unknown user, wrong, used or expired link), `email_exists` (the new address was taken meanwhile), `invalid_data` or `parse_error`. */
        ActivationRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_token",
                 *       "message": "The link is invalid or has expired."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_token" | "email_exists" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `already_active`: the account is already active (the link was used). */
        AlreadyActive: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "already_active",
                 *       "message": "The account is already active."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "already_active";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `activation_disabled` (`EMAIL_VERIFICATION=off`), `invalid_data` or `parse_error`. */
        ResendRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "activation_disabled",
                 *       "message": "Email verification is off; there is no activation to resend."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "activation_disabled" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `not_found`: no such resource, e.g. an unknown 2FA method. */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "not_found",
                 *       "message": "Not found."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "not_found";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `request_too_large`: the body is larger than the server accepts. */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "request_too_large",
                 *       "message": "The request body is too large."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "request_too_large";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `message_too_large` (the message is over `MAX_MESSAGE_BYTES`) or `request_too_large` (the whole body is). */
        MessageTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "message_too_large",
                 *       "message": "Messages can be at most 65536 bytes."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "message_too_large" | "request_too_large";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `unsupported_media_type`: the body is not of the type the operation takes. */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "unsupported_media_type",
                 *       "message": "Send the body as application/json."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "unsupported_media_type";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `upgrade_required`: this operation only upgrades to a WebSocket (`Upgrade: websocket`). */
        UpgradeRequired: {
            headers: {
                /** @description `websocket` */
                Upgrade?: string;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "upgrade_required",
                 *       "message": "Open this address as a WebSocket."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "upgrade_required";
                } & components["schemas"]["Error"];
            };
        };
        /** @description Too many requests from this IP (`THROTTLE_ANON`); a page says when to retry, as `Retry-After` does. */
        PageTooManyRequests: {
            headers: {
                /** @description Seconds until a request may succeed. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /** @example <!doctype html><html>...</html> */
                "text/html": string;
            };
        };
        /** @description `throttled`: too many requests; retry after `Retry-After` seconds. */
        TooManyRequests: {
            headers: {
                /** @description Seconds until a request may succeed. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "throttled",
                 *       "message": "Request was throttled. Expected available in 3600 seconds."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "throttled";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `service_unavailable`: the database could not be reached within `DATABASE_TIMEOUT` (on SQLite: another process held its write lock that long). Nothing was changed; retry after `Retry-After` seconds. Never a sign that the credentials are wrong: a token is refused (401) only when its session was read and is gone. */
        ServiceUnavailable: {
            headers: {
                /** @description Seconds after which to retry. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "service_unavailable",
                 *       "message": "The service is unavailable; retry after a few seconds."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "service_unavailable";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `too_many_devices`: the account already has `MAX_DEVICES` devices. */
        TooManyDevices: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "too_many_devices",
                 *       "message": "The account already has 6 devices."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "too_many_devices";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `registration_id_in_use`: another device of the account has that registration ID. */
        RegistrationIdInUse: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "registration_id_in_use",
                 *       "message": "Another device of this account has that registration ID."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "registration_id_in_use";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `several_devices`: the account has more than one device; remove one with `DELETE /v2/devices/{deviceId}/`, or use a token bound to the device. */
        SeveralDevices: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "several_devices",
                 *       "message": "The account has several devices; say which."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "several_devices";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `device_required`: the operation acts for one device and the token is not bound to one. */
        DeviceRequired: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "device_required",
                 *       "message": "Use a token bound to the sending device."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "device_required";
                } & components["schemas"]["Error"];
            };
        };
        /** @description `invalid_recipient_email`, `invalid_data` (the schema, or a repeated `deviceId`) or `parse_error`. */
        MultiSendRejected: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "invalid_data",
                 *       "message": "The request is invalid.",
                 *       "errors": [
                 *         {
                 *           "field": "body.messages[1].deviceId",
                 *           "message": "is repeated"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "invalid_recipient_email" | "invalid_data" | "parse_error" | "invalid_host";
                } & components["schemas"]["Error"];
            };
        };
        /**
         * @description `mismatched_devices`: the messages do not cover exactly the recipient's current devices (minus
         *     the sender's own): fetch keys for `missingDevices`, drop `extraDevices`, and send again.
         *     `recipient_queue_full`: one of the devices already holds MAX_QUEUED_MESSAGES messages.
         *     Nothing was stored.
         */
        MismatchedDevices: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "mismatched_devices",
                 *       "message": "The messages do not match the recipient's devices.",
                 *       "missingDevices": [
                 *         3
                 *       ],
                 *       "extraDevices": [
                 *         2
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {unknown} */
                    code: "mismatched_devices" | "recipient_queue_full";
                    message: string;
                    missingDevices?: components["schemas"]["DeviceIds"];
                    extraDevices?: components["schemas"]["DeviceIds"];
                };
            };
        };
        /** @description `stale_devices`: these devices were registered anew with another registration ID; fetch their keys, start new sessions and send again. Nothing was stored. */
        StaleDevices: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "stale_devices",
                 *       "message": "Some devices have a new registration ID.",
                 *       "staleDevices": [
                 *         2
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @enum {unknown} */
                    code: "stale_devices";
                    message: string;
                    staleDevices: components["schemas"]["DeviceIds"];
                };
            };
        };
        /** @description `no_provisioning_socket`: no open provisioning socket of this account has that address. */
        NoProvisioningSocket: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "code": "no_provisioning_socket",
                 *       "message": "No provisioning socket has that address."
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    code?: "no_provisioning_socket";
                } & components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        /**
         * @description Required, and only then, when the caller's device registered a `signingKey`:
         *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
         *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
         *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
         *     greater than the last one the server accepted for the signing key (kept across a deletion
         *     and re-registration of the device), so a captured request cannot be replayed; send signed
         *     requests of one device one after another. A request whose signature is accepted uses up its
         *     counter even when the operation then refuses it. A missing, malformed, wrong
         *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
         */
        Signature: string;
        /**
         * @description The registration ID of the caller's device the request acts for. A token bound to a device
         *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
         *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
         *     when none has this ID).
         */
        RegistrationId: components["schemas"]["RegistrationId"];
        /** @description The number of a device of the caller's account. */
        DeviceId: components["schemas"]["DeviceId"];
        /** @description The email of the user whose bundle is claimed. */
        RecipientEmail: string;
        /** @description The 2FA method. Any other value answers 404. */
        MfaMethodName: components["schemas"]["MfaMethodName"];
        /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
        Uid: string;
        /** @description The reset token from the reset link. A malformed one shows the invalid-link page. */
        ResetToken: string;
        /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
        UserId: string;
        /** @description The token from the emailed link. A malformed one shows the invalid-link page. */
        ActivationToken: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Liveness"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every configured dependency answered. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "checks": {
                     *         "database": "ok",
                     *         "redis": "ok",
                     *         "smtp": "ok"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description At least one dependency did not answer; take the instance out of rotation. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "unavailable",
                     *       "checks": {
                     *         "database": "ok",
                     *         "redis": "down"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    listUsers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller, as the only item. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "id": 1,
                     *         "email": "alice@example.com"
                     *       }
                     *     ]
                     */
                    "application/json": components["schemas"]["User"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createUser: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com",
                 *       "password": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["Credentials"];
            };
        };
        responses: {
            /** @description The account was created. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["SignUpRejected"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The authenticated user. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The user, unchanged. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "currentPassword": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["DeleteAccount"];
            };
        };
        responses: {
            /** @description The account and everything it owned are gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    patchMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The user, unchanged. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    setPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "current_password": "correct-horse-battery",
                 *       "new_password": "staple-lantern-orbit"
                 *     }
                 */
                "application/json": components["schemas"]["SetPassword"];
            };
        };
        responses: {
            /** @description The password was changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    changeEmail: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "new_email": "alice@example.org",
                 *       "current_password": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["ChangeEmail"];
            };
        };
        responses: {
            /** @description `EMAIL_VERIFICATION=on`: a confirmation link was mailed to the new address. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "verification_sent",
                     *       "message": "A confirmation link was sent to the new address."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            /** @description The email was changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["EmailChangeRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    activateAccount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "uid": "MQ",
                 *       "token": "ab12cd-0123456789abcdef0123456789abcdef01234567"
                 *     }
                 */
                "application/json": components["schemas"]["UidAndToken"];
            };
        };
        responses: {
            /** @description The account is active, or its new email is in place. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["ActivationRejected"];
            403: components["responses"]["AlreadyActive"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    activateAccountLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "uid": "MQ",
                 *       "token": "ab12cd-0123456789abcdef0123456789abcdef01234567"
                 *     }
                 */
                "application/json": components["schemas"]["UidAndToken"];
            };
        };
        responses: {
            /** @description The account is active, or its new email is in place. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["ActivationRejected"];
            403: components["responses"]["AlreadyActive"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resendActivation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["EmailOnly"];
            };
        };
        responses: {
            /** @description If the email belongs to an account that is not active, a link was mailed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["ResendRejected"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createUserLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com",
                 *       "password": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["Credentials"];
            };
        };
        responses: {
            /** @description The account was created. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["SignUpRejected"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMeLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "currentPassword": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["DeleteAccount"];
            };
        };
        responses: {
            /** @description The account and everything it owned are gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The authenticated user. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The user, unchanged (no field is writable here). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "currentPassword": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["DeleteAccount"];
            };
        };
        responses: {
            /** @description The account and everything it owned are gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    patchUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A user's id. Only the caller's own is found; any other answers 404 `not_found`. */
                id: components["parameters"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The user, unchanged (no field is writable here). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMeLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The authenticated user. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateMeLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["UserUpdate"];
            };
        };
        responses: {
            /** @description The user, unchanged (no field is writable here). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 1,
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    changeEmailLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "new_email": "alice@example.org",
                 *       "current_password": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["ChangeEmail"];
            };
        };
        responses: {
            /** @description `EMAIL_VERIFICATION=on`: a confirmation link was mailed to the new address. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "verification_sent",
                     *       "message": "A confirmation link was sent to the new address."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            /** @description The email was changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["EmailChangeRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    setPasswordLegacy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "current_password": "correct-horse-battery",
                 *       "new_password": "staple-lantern-orbit"
                 *     }
                 */
                "application/json": components["schemas"]["SetPassword"];
            };
        };
        responses: {
            /** @description The password was changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com",
                 *       "password": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["Login"];
            };
        };
        responses: {
            /** @description Logged in, or the second factor is needed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthToken"] | components["schemas"]["MfaChallenge"];
                };
            };
            400: components["responses"]["CredentialsRejected"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    loginCode: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "ephemeral_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["LoginCode"];
            };
        };
        responses: {
            /** @description Logged in. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "auth_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
                     *     }
                     */
                    "application/json": components["schemas"]["AuthToken"];
                };
            };
            400: components["responses"]["CodeRejected"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The token is revoked. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resetPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "alice@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["EmailOnly"];
            };
        };
        responses: {
            /** @description If the email is registered, a reset link was mailed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidData"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resetPasswordConfirm: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "uid": "MQ",
                 *       "token": "ab12cd-0123456789abcdef0123456789abcdef",
                 *       "new_password": "staple-lantern-orbit"
                 *     }
                 */
                "application/json": components["schemas"]["ResetConfirm"];
            };
        };
        responses: {
            /** @description The password was changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["TokenRejected"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resetPasswordPage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The reset token from the reset link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ResetToken"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page with the form. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            /**
             * @description The link is invalid, already used or expired (or the request was refused, e.g. its Host
             *     header); a page says so, without a form.
             */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            429: components["responses"]["PageTooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resetPasswordPageSubmit: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The reset token from the reset link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ResetToken"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "new_password": "staple-lantern-orbit",
                 *       "re_new_password": "staple-lantern-orbit"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    new_password: string;
                    re_new_password: string;
                };
            };
        };
        responses: {
            /** @description The password was changed; the page says so. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            /** @description The form was rejected; the page says why and shows the form again where that helps. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["PageTooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    activationPage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The token from the emailed link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ActivationToken"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page with the button, or saying that the link is invalid or already used. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequest"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    activationPageSubmit: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id, base64url-encoded, from the reset link. A malformed one shows the invalid-link page. */
                uid: components["parameters"]["Uid"];
                /** @description The token from the emailed link. A malformed one shows the invalid-link page. */
                token: components["parameters"]["ActivationToken"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "confirm": "1"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    confirm?: string;
                };
            };
        };
        responses: {
            /** @description Done; the page says so. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            /** @description The link is invalid, expired or used, or the new address was taken meanwhile; the page says which. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html>...</html> */
                    "text/html": string;
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    activateMfa: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The method is pending confirmation. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QrCode"] | components["schemas"]["Status"];
                };
            };
            400: components["responses"]["MethodRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    confirmMfa: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["CodeOnly"];
            };
        };
        responses: {
            /** @description The method is active. Keep the backup codes; each works once. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "backup_codes": [
                     *         "k3v9x2mq7d",
                     *         "p8w2n5c4za"
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["BackupCodes"];
                };
            };
            400: components["responses"]["CodeRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deactivateMfa: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["CodeOnly"];
            };
        };
        responses: {
            /** @description The method is inactive and its backup codes are gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["CodeRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    regenerateBackupCodes: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The 2FA method. Any other value answers 404. */
                method: components["parameters"]["MfaMethodName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["CodeOnly"];
            };
        };
        responses: {
            /** @description The new backup codes. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "backup_codes": [
                     *         "k3v9x2mq7d",
                     *         "p8w2n5c4za"
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["BackupCodes"];
                };
            };
            400: components["responses"]["CodeRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    requestMfaCode: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "method": "email"
                 *     }
                 */
                "application/json": {
                    method: components["schemas"]["MfaMethodName"];
                };
            };
        };
        responses: {
            /** @description A code was mailed, or none is needed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Status"];
                };
            };
            400: components["responses"]["MethodRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMfaConfig: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The 2FA configuration. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "methods": [
                     *         "email",
                     *         "app"
                     *       ],
                     *       "application_issuer_name": "Signal Server",
                     *       "backup_codes_count": 8,
                     *       "allow_backup_codes_regeneration": true,
                     *       "email_code_validity_seconds": 600,
                     *       "totp": {
                     *         "digits": 6,
                     *         "period": 30,
                     *         "algorithm": "SHA1"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["MfaConfig"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getActiveMfaMethods: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Active methods, primary first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "name": "app",
                     *         "is_primary": true
                     *       },
                     *       {
                     *         "name": "email",
                     *         "is_primary": false
                     *       }
                     *     ]
                     */
                    "application/json": components["schemas"]["ActiveMethod"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    changePrimaryMfaMethod: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "method": "email",
                 *       "code": "123456"
                 *     }
                 */
                "application/json": {
                    method: components["schemas"]["MfaMethodName"];
                    code: components["schemas"]["Code"];
                };
            };
        };
        responses: {
            /** @description The primary method changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["CodeRejected"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createDevice: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "address": "alice.1",
                 *       "identityKey": "BQpYJ1Lsr9qh4J1LSTmo4Hc2x6bdUR0M2+VXRa5nZ5cH",
                 *       "registrationId": 4321,
                 *       "preKeys": [
                 *         {
                 *           "keyId": 1,
                 *           "publicKey": "BbQ9tJzELNyq5CRdF0tNCJXs7Vv+6xZfMdN0z8R2mJ0q"
                 *         }
                 *       ],
                 *       "signedPreKey": {
                 *         "keyId": 1,
                 *         "publicKey": "BXl2n9r6lWw8m8yY4m1Lq7bNn6s0mS0aS3LJd3p8W8Bg",
                 *         "signature": "2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg=="
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["DeviceCreate"];
            };
        };
        responses: {
            /** @description The device was registered as the account's device 1 (or the next number, for an account that had devices before). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "device_created",
                     *       "message": "Device created.",
                     *       "deviceId": 1
                     *     }
                     */
                    "application/json": components["schemas"]["DeviceCreated"];
                };
            };
            400: components["responses"]["KeysRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceExists"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteDevice: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The device is gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NoDevice"];
            409: components["responses"]["SeveralDevices"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPreKeyCount: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The counts. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "count": 87,
                     *       "pqCount": 90
                     *     }
                     */
                    "application/json": components["schemas"]["PreKeyCount"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    uploadPreKeys: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example [
                 *       {
                 *         "keyId": 2,
                 *         "publicKey": "BbQ9tJzELNyq5CRdF0tNCJXs7Vv+6xZfMdN0z8R2mJ0q"
                 *       }
                 *     ]
                 */
                "application/json": components["schemas"]["PreKey"][];
            };
        };
        responses: {
            /** @description The prekeys were stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "prekeys_stored",
                     *       "message": "Prekeys stored."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            400: components["responses"]["PreKeysRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    replaceSignedPreKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "keyId": 2,
                 *       "publicKey": "BXl2n9r6lWw8m8yY4m1Lq7bNn6s0mS0aS3LJd3p8W8Bg",
                 *       "signature": "2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg=="
                 *     }
                 */
                "application/json": components["schemas"]["SignedPreKey"];
            };
        };
        responses: {
            /** @description The signed prekey was replaced. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "signed_prekey_stored",
                     *       "message": "Signed prekey stored."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            400: components["responses"]["SignatureRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    uploadPqPreKeys: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PqPreKeyUpload"];
            };
        };
        responses: {
            /** @description The Kyber prekeys were stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "pq_prekeys_stored",
                     *       "message": "Kyber prekeys stored."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            400: components["responses"]["KeysRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    checkKeys: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "digest": "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
                 *     }
                 */
                "application/json": components["schemas"]["KeyCheck"];
            };
        };
        responses: {
            /** @description The server holds exactly these keys. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "keys_match",
                     *       "message": "The server holds the same keys."
                     *     }
                     */
                    "application/json": components["schemas"]["Status"];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            /** @description `keys_mismatch`: the server holds different keys. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "code": "keys_mismatch",
                     *       "message": "The server holds different keys; upload them again."
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        code?: "keys_mismatch";
                    } & components["schemas"]["Error"];
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPreKeyBundle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The recipient's prekey bundle. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "address": "bob.1",
                     *       "identityKey": "BQpYJ1Lsr9qh4J1LSTmo4Hc2x6bdUR0M2+VXRa5nZ5cH",
                     *       "registrationId": 1234,
                     *       "signedPreKey": {
                     *         "keyId": 1,
                     *         "publicKey": "BXl2n9r6lWw8m8yY4m1Lq7bNn6s0mS0aS3LJd3p8W8Bg",
                     *         "signature": "2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg=="
                     *       },
                     *       "preKey": {
                     *         "keyId": 7,
                     *         "publicKey": "BbQ9tJzELNyq5CRdF0tNCJXs7Vv+6xZfMdN0z8R2mJ0q"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["PreKeyBundle"];
                };
            };
            400: components["responses"]["RecipientRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["RecipientNotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMessages: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The queued messages. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       {
                     *         "id": 17,
                     *         "senderAddress": "alice.1",
                     *         "senderRegistrationId": 4321,
                     *         "recipientAddress": "bob.1",
                     *         "content": "{\"type\":3,\"body\":\"MwohBQ...\",\"registrationId\":1234}",
                     *         "created": "2026-11-25T10:00:00.000Z"
                     *       }
                     *     ]
                     */
                    "application/json": components["schemas"]["Message"][];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    sendMessage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "recipient": "bob@example.com",
                 *       "message": "{\"type\":3,\"body\":\"MwohBQ...\",\"registrationId\":1234}"
                 *     }
                 */
                "application/json": components["schemas"]["MessageSend"];
            };
        };
        responses: {
            /** @description The message is queued. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": 17,
                     *       "senderAddress": "alice.1",
                     *       "senderRegistrationId": 4321,
                     *       "recipientAddress": "bob.1",
                     *       "content": "{\"type\":3,\"body\":\"MwohBQ...\",\"registrationId\":1234}",
                     *       "created": "2026-11-25T10:00:00.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Message"];
                };
            };
            400: components["responses"]["MessageRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["MessageForbidden"];
            404: components["responses"]["RecipientNotFound"];
            409: components["responses"]["RecipientQueueFull"];
            413: components["responses"]["MessageTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMessages: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example [
                 *       17,
                 *       18
                 *     ]
                 */
                "application/json": components["schemas"]["MessageId"][];
            };
        };
        responses: {
            /** @description One result per id. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example [
                     *       "message_deleted",
                     *       {
                     *         "code": "non-existant_message",
                     *         "message": "Message 18 does not exist."
                     *       }
                     *     ]
                     */
                    "application/json": ("message_deleted" | components["schemas"]["MissingMessage"])[];
                };
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    openMessageSocket: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
                /**
                 * @description Offer `signal.messages.v1`; the server agrees to that one only. A browser, which cannot
                 *     set headers on a WebSocket, adds its credentials as further entries: `bearer.<auth_token>`
                 *     instead of `Authorization`, and (a device with a `signingKey`)
                 *     `signature.<counter>.<base64url signature>` instead of `Signature`. Headers actually sent
                 *     win. Never put the token in the URL: URLs end up in logs; a `token` query parameter is
                 *     ignored.
                 */
                "Sec-WebSocket-Protocol"?: string;
            };
            path: {
                /**
                 * @description The registration ID of the caller's device the request acts for. A token bound to a device
                 *     acts for that device only (403 `device_changed` for another ID); an unbound token acts for the
                 *     account's device with this ID (404 `no_device` when the account has none, 403 `device_changed`
                 *     when none has this ID).
                 */
                registrationId: components["parameters"]["RegistrationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching Protocols; the socket speaks the protocol of `asyncapi.yaml`. */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceChanged"];
            404: components["responses"]["NoDevice"];
            426: components["responses"]["UpgradeRequired"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listDevices: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The devices. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "devices": [
                     *         {
                     *           "deviceId": 1,
                     *           "registrationId": 4321,
                     *           "name": null,
                     *           "created": "2026-11-25T10:00:00.000Z",
                     *           "lastSeen": "2026-12-05T00:00:00.000Z"
                     *         },
                     *         {
                     *           "deviceId": 2,
                     *           "registrationId": 5678,
                     *           "name": "Laptop",
                     *           "created": "2026-12-01T09:30:00.000Z",
                     *           "lastSeen": "2026-12-04T00:00:00.000Z"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["DeviceList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    addDevice: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "address": "alice.2",
                 *       "name": "Laptop",
                 *       "identityKey": "BQpYJ1Lsr9qh4J1LSTmo4Hc2x6bdUR0M2+VXRa5nZ5cH",
                 *       "registrationId": 5678,
                 *       "preKeys": [
                 *         {
                 *           "keyId": 1,
                 *           "publicKey": "BbQ9tJzELNyq5CRdF0tNCJXs7Vv+6xZfMdN0z8R2mJ0q"
                 *         }
                 *       ],
                 *       "signedPreKey": {
                 *         "keyId": 1,
                 *         "publicKey": "BXl2n9r6lWw8m8yY4m1Lq7bNn6s0mS0aS3LJd3p8W8Bg",
                 *         "signature": "2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg=="
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["DeviceAdd"];
            };
        };
        responses: {
            /** @description The device was added; `auth_token` is bound to it. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "deviceId": 2,
                     *       "auth_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
                     *     }
                     */
                    "application/json": components["schemas"]["DeviceAdded"];
                };
            };
            400: components["responses"]["KeysRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["TooManyDevices"];
            409: components["responses"]["RegistrationIdInUse"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    removeDevice: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /** @description The number of a device of the caller's account. */
                deviceId: components["parameters"]["DeviceId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "currentPassword": "correct-horse-battery"
                 *     }
                 */
                "application/json": components["schemas"]["RemoveDevice"];
            };
        };
        responses: {
            /** @description The device is gone. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["PasswordRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NoDevice"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getDeviceKeys: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
                /** @description One device of the recipient by its `deviceId`, or `*` for all of them. */
                deviceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One bundle per device, ordered by `deviceId`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "devices": [
                     *         {
                     *           "deviceId": 1,
                     *           "registrationId": 1234,
                     *           "address": "bob.1",
                     *           "identityKey": "BQpYJ1Lsr9qh4J1LSTmo4Hc2x6bdUR0M2+VXRa5nZ5cH",
                     *           "signedPreKey": {
                     *             "keyId": 1,
                     *             "publicKey": "BXl2n9r6lWw8m8yY4m1Lq7bNn6s0mS0aS3LJd3p8W8Bg",
                     *             "signature": "2k8cWuGZp0FZt1Ef3k8gqYVtJYV8c4n0s5o0Hc1kV8e1nqg3c3VlY0jC6wQpXg0m2V6a4nRz8o6r2y1jH0o0Bg=="
                     *           },
                     *           "preKey": {
                     *             "keyId": 7,
                     *             "publicKey": "BbQ9tJzELNyq5CRdF0tNCJXs7Vv+6xZfMdN0z8R2mJ0q"
                     *           }
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["DeviceKeys"];
                };
            };
            400: components["responses"]["RecipientRejected"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["AccountNotFound"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    sendMessages: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Required, and only then, when the caller's device registered a `signingKey`:
                 *     `<counter>.<base64 Ed25519 signature>`, the signature by the signing key over the UTF-8 bytes of
                 *     `<counter>` LF `<METHOD>` LF `<path and query exactly as sent>` LF followed by the exact body
                 *     bytes (nothing for a request without a body). `counter` is an integer from 1 that must be
                 *     greater than the last one the server accepted for the signing key (kept across a deletion
                 *     and re-registration of the device), so a captured request cannot be replayed; send signed
                 *     requests of one device one after another. A request whose signature is accepted uses up its
                 *     counter even when the operation then refuses it. A missing, malformed, wrong
                 *     or replayed signature answers 401 `invalid_request_signature` and changes nothing.
                 */
                Signature?: components["parameters"]["Signature"];
            };
            path: {
                /** @description The email of the user whose bundle is claimed. */
                recipientEmail: components["parameters"]["RecipientEmail"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "messages": [
                 *         {
                 *           "deviceId": 1,
                 *           "registrationId": 1234,
                 *           "content": "MwohBQ..."
                 *         },
                 *         {
                 *           "deviceId": 2,
                 *           "registrationId": 5678,
                 *           "content": "MwohBR..."
                 *         }
                 *       ],
                 *       "timestamp": 1764928800000
                 *     }
                 */
                "application/json": components["schemas"]["MultiSend"];
            };
        };
        responses: {
            /** @description Every message is queued. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "messages": [
                     *         {
                     *           "deviceId": 1,
                     *           "id": 17
                     *         },
                     *         {
                     *           "deviceId": 2,
                     *           "id": 18
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["MultiSent"];
                };
            };
            400: components["responses"]["MultiSendRejected"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["DeviceRequired"];
            404: components["responses"]["AccountNotFound"];
            409: components["responses"]["MismatchedDevices"];
            410: components["responses"]["StaleDevices"];
            413: components["responses"]["MessageTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    openProvisioningSocket: {
        parameters: {
            query?: never;
            header?: {
                /** @description Offer `signal.provisioning.v1`; a browser adds `bearer.<auth_token>` as for the message socket. */
                "Sec-WebSocket-Protocol"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching Protocols; the socket speaks the provisioning protocol of `asyncapi.yaml`. */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            426: components["responses"]["UpgradeRequired"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    sendProvisioningMessage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The address a provisioning socket of the same account was given. */
                address: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "body": "CiEFq3mR0x5nYQ2cZ8kWw1fJ+Hn0vE4="
                 *     }
                 */
                "application/json": components["schemas"]["ProvisioningMessage"];
            };
        };
        responses: {
            /** @description The body was sent to the socket, which is now closed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidData"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NoProvisioningSocket"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
}
