"""gulian token create USERNAME --name NAME [--days N] | gulian token revoke ID | gulian token list [USERNAME]."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from gulian.core import audit
from gulian.core.models import ApiToken, User

# The digest stays out of the audit log: the log is read more widely than the token table.
AUDITED_FIELDS = ["id", "user_id", "name", "prefix", "expires_at"]


class Command(BaseCommand):
    help = "Issue, list or revoke REST API bearer tokens (the key is printed once, only its hash is kept)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for USERNAME and print its key once")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the token is for, e.g. 'ERP 同步'")
        create.add_argument("--days", type=int, default=None, help="expire after N days (default: never)")
        revoke = sub.add_parser("revoke", help="delete the token with this id")
        revoke.add_argument("id", type=int)
        listing = sub.add_parser("list", help="list tokens (id, user, name, prefix, expiry, last use)")
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action, **opts):
        getattr(self, f"_{action}")(**opts)

    def _create(self, username, name, days, **_):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在 / no such user: {username}")
        if days is not None and days < 1:
            raise CommandError("--days 须为正整数 / --days must be a positive number")
        with transaction.atomic():
            token, key = ApiToken.issue(user, name)
            if days:
                token.expires_at = timezone.now() + dt.timedelta(days=days)
                token.save(update_fields=["expires_at"])
            audit.record(None, "create", token, None, audit.snapshot(token, AUDITED_FIELDS))
        if not user.is_usable:
            self.stderr.write(
                "注意：该用户未审核或已停用，令牌暂不可用 / note: the user is not approved or inactive"
            )
        self.stdout.write(f"令牌 id / token id: {token.pk}")
        self.stdout.write("请立即保存，此密钥只显示这一次 / store it now, the key is shown only once:")
        self.stdout.write(key)

    def _revoke(self, id, **_):
        token = ApiToken.objects.filter(pk=id).first()
        if token is None:
            raise CommandError(f"令牌不存在 / no such token: {id}")
        with transaction.atomic():
            audit.record(None, "delete", token, audit.snapshot(token, AUDITED_FIELDS), None)
            token.delete()
        self.stdout.write(self.style.SUCCESS(f"已吊销令牌 / revoked token {id} ({token.name})"))

    def _list(self, username=None, **_):
        tokens = ApiToken.objects.select_related("user").order_by("pk")
        if username:
            tokens = tokens.filter(user__username=username)
        for t in tokens:
            expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "-"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
            self.stdout.write(f"{t.pk}\t{t.user.username}\t{t.name}\t{t.prefix}…\t{expires}\t{used}")
