"""``mosis login``, ``mosis logout``, ``mosis whoami``."""

from __future__ import annotations

import getpass
import sys

from ..api import Credentials, StoreClient
from ..context import Context
from ..errors import ApiError, CliError, ExitCode


def register(sub, common) -> None:
    login = sub.add_parser(
        "login",
        parents=[common],
        help="Sign in to a store (email and password, or an API key) and remember it.",
        description="Sign in to a store and save the credential in your config folder (readable by you only). "
        "The store becomes the default for the other commands. Without --api-key you are asked for your email "
        "and password (a JWT pair is saved and refreshed as needed); with --api-key, for an mk_live_ key.",
    )
    login.add_argument("--email", help="Your account's email (asked for when omitted).")
    login.add_argument(
        "--password-stdin", action="store_true", help="Read the password from standard input (for scripts)."
    )
    login.add_argument(
        "--api-key",
        action="store_true",
        help="Sign in with an API key (mk_live_...) instead: pasted at the prompt, or read from stdin.",
    )
    login.set_defaults(handler=login_command)

    logout = sub.add_parser(
        "logout",
        parents=[common],
        help="Forget the credential saved for the store (and revoke the sign-in).",
        description="Revoke the saved sign-in at the store (best effort) and remove it from your config.",
    )
    logout.set_defaults(handler=logout_command)

    whoami = sub.add_parser(
        "whoami", parents=[common], help="Show who you are signed in as.", description="Show the account."
    )
    whoami.set_defaults(handler=whoami_command)


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass(prompt).strip()


def login_command(ctx: Context) -> int:
    opts, out, store = ctx.options, ctx.out, ctx.store
    if opts.api_key:
        key = _read_secret("API key: ", opts.password_stdin)
        if not key:
            raise CliError("No API key given.", fix="Paste the mk_live_... secret.", exit_code=ExitCode.USAGE)
        user = StoreClient(store, Credentials(api_key=key)).get("/auth/me")
        entry = ctx.config.store(store)
        ctx.config.forget_credentials(store)
        entry.update(api_key=key, email=user.get("email"))
        how = "an API key"
    else:
        email = opts.email or (input("Email: ").strip() if sys.stdin.isatty() else "")
        if not email:
            raise CliError("No email given.", fix="Pass --email you@example.com.", exit_code=ExitCode.USAGE)
        password = _read_secret("Password: ", opts.password_stdin)
        try:
            body = StoreClient(store).post("/auth/token", {"email": email, "password": password}, auth=False)
        except ApiError as exc:
            if exc.status == 401:
                raise CliError(
                    f"{store} refused the email or password.",
                    fix="Check them; an account made with GitHub or Google has no password: create an API "
                    "key in the portal (API keys) and run `mosis login --api-key`.",
                    exit_code=ExitCode.AUTH,
                )
            raise
        user = body.get("user") or {}
        entry = ctx.config.store(store)
        ctx.config.forget_credentials(store)
        entry.update(
            access_token=body["access_token"], refresh_token=body["refresh_token"], email=user.get("email")
        )
        how = "your password"
    ctx.config.data["default_store"] = store
    ctx.config.save()
    out.say(f"Signed in to {store} as {user.get('email')} ({user.get('name') or 'no name'}) with {how}.")
    out.say(f"Saved to {ctx.config.path} (readable by you only).")
    out.result({"store": store, "user": user, "config": str(ctx.config.path)})
    return 0


def logout_command(ctx: Context) -> int:
    store, entry = ctx.store, ctx.store_entry
    had_jwt, had_key = (
        bool(entry.get("refresh_token") or entry.get("access_token")),
        bool(entry.get("api_key")),
    )
    revoked = False
    if entry.get("refresh_token"):
        try:
            ctx.client.post("/auth/logout", {"refresh_token": entry["refresh_token"]})
            revoked = True
        except CliError:
            revoked = False  # expired or unreachable: forgetting it here is what matters
    ctx.config.forget_credentials(store)
    ctx.config.save()
    if not (had_jwt or had_key):
        ctx.out.say(f"You were not signed in to {store}.")
    else:
        ctx.out.say(f"Signed out of {store}.")
        if had_jwt and not revoked:
            ctx.out.say(
                "The store could not be told (offline or already expired); the sign-in was removed here."
            )
        if had_key:
            ctx.out.say(
                "The API key itself still works: `mosis api-keys revoke ID` if you no longer need it."
            )
    ctx.out.result({"store": store, "signed_out": had_jwt or had_key, "revoked_at_store": revoked})
    return 0


def whoami_command(ctx: Context) -> int:
    user = ctx.client.get("/auth/me")
    how = "an API key" if ctx.client.credentials.api_key else "a password sign-in"
    ctx.out.say(f"{user.get('email')} ({user.get('name') or 'no name'}) on {ctx.store}, with {how}.")
    key = ctx.store_entry.get("signing_key")
    if key:
        ctx.out.say(f"Signing key: {key.get('name')} ({key.get('fingerprint', '')[:16]}…), {key.get('path')}")
    else:
        ctx.out.say("No signing key yet: `mosis keygen` makes one.")
    ctx.out.result({"store": ctx.store, "user": user, "signing_key": key})
    return 0
