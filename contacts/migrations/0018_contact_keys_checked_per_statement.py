"""On PostgreSQL, a contact's list and owner are still kept in its account by the database,
checked once per statement instead of once per row.

The two composite foreign keys of migration 0009 check each new contact on its own at the
commit: 5,000 new contacts were 10,000 lookups of the same list and owner, a quarter of a
bulk job's time in the database. They become triggers that keep the same rule:
- a statement inserting contacts locks the distinct lists and owners its rows name (FOR KEY
  SHARE, as a foreign key's check does) and fails unless each is one of the row's account;
- an update changing a contact's account, list or owner checks the new one, row by row
  (bulk updates change neither unless asked to);
- a list or user that contacts name cannot be deleted, nor moved to another account, while
  they do: checked at the commit, as the deferred foreign keys were.
Both sides lock the list's or user's row first, so a deletion and an insert naming it wait
for each other and the one that comes second fails, under READ COMMITTED (the service's
isolation level). The errors are the foreign keys' own: SQLSTATE 23503, message and constraint name.
SQLite keeps Django's plain foreign keys.
"""

from django.db import migrations

KEYS = {
    # constraint: (the contact's column, the table it names, what the error says)
    "contact_list_of_its_account": ("list_id", "lists_contactlist", "list must be a list"),
    "contact_owner_of_its_account": ("owner_id", "accounts_user", "owner must be a user"),
}


def _held_check(column: str, table: str, constraint: str, says: str) -> str:
    """Statement-level: the distinct (account, key) pairs of the new rows, each locked in `table`."""
    return f"""
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT account_id, {column} FROM added) named;
  PERFORM 1 FROM {table} t JOIN (SELECT DISTINCT account_id, {column} FROM added) named
    ON t.account_id = named.account_id AND t.id = named.{column} FOR KEY SHARE OF t;
  GET DIAGNOSTICS held = ROW_COUNT;
  IF held < wanted THEN
    RAISE foreign_key_violation USING
      MESSAGE = 'insert or update on table "contacts_contact" violates foreign key constraint "{constraint}"',
      DETAIL = 'A contact''s {says} of its account.', CONSTRAINT = '{constraint}', TABLE = 'contacts_contact';
  END IF;"""


def _row_check(column: str, table: str, constraint: str, says: str) -> str:
    """Row-level, on update: the new (account, key) pair, if it changed."""
    return f"""
  IF (NEW.account_id, NEW.{column}) IS DISTINCT FROM (OLD.account_id, OLD.{column}) THEN
    PERFORM 1 FROM {table} WHERE account_id = NEW.account_id AND id = NEW.{column} FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE foreign_key_violation USING
        MESSAGE = 'insert or update on table "contacts_contact" violates foreign key constraint "{constraint}"',
        DETAIL = 'A contact''s {says} of its account.', CONSTRAINT = '{constraint}', TABLE = 'contacts_contact';
    END IF;
  END IF;"""


def _checks(make) -> str:
    return "".join(make(column, table, constraint, says) for constraint, (column, table, says) in KEYS.items())


FORWARD = [
    *(f"ALTER TABLE contacts_contact DROP CONSTRAINT {constraint}" for constraint in KEYS),
    f"""CREATE FUNCTION contact_keys_added_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted bigint;
  held bigint;
BEGIN{_checks(_held_check)}
  RETURN NULL;
END $$""",
    """CREATE TRIGGER contact_keys_added AFTER INSERT ON contacts_contact
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION contact_keys_added_check()""",
    f"""CREATE FUNCTION contact_keys_changed_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_checks(_row_check)}
  RETURN NULL;
END $$""",
    """CREATE TRIGGER contact_keys_changed AFTER UPDATE OF account_id, list_id, owner_id ON contacts_contact
  FOR EACH ROW EXECUTE FUNCTION contact_keys_changed_check()""",
    # TG_ARGV: the contact's column naming the row, and the constraint the error names.
    """CREATE FUNCTION contact_key_unreferenced_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named boolean;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.account_id, NEW.id) = (OLD.account_id, OLD.id) THEN
    RETURN NULL;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM contacts_contact WHERE account_id = $1 AND %I = $2)', TG_ARGV[0])
    INTO named USING OLD.account_id, OLD.id;
  IF named THEN
    RAISE foreign_key_violation USING
      MESSAGE = format('update or delete on table "%s" violates foreign key constraint "%s" on table "contacts_contact"',
                       TG_TABLE_NAME, TG_ARGV[1]),
      DETAIL = 'Contacts of its account still name it.', CONSTRAINT = TG_ARGV[1], TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$""",
    *(
        f"""CREATE CONSTRAINT TRIGGER {constraint}_kept AFTER DELETE OR UPDATE OF account_id, id ON {table}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contact_key_unreferenced_check('{column}', '{constraint}')"""
        for constraint, (column, table, _) in KEYS.items()
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER {constraint}_kept ON {table}" for constraint, (_, table, _) in KEYS.items()),
    "DROP TRIGGER contact_keys_changed ON contacts_contact",
    "DROP TRIGGER contact_keys_added ON contacts_contact",
    "DROP FUNCTION contact_key_unreferenced_check()",
    "DROP FUNCTION contact_keys_changed_check()",
    "DROP FUNCTION contact_keys_added_check()",
    *(
        f"ALTER TABLE contacts_contact ADD CONSTRAINT {constraint} FOREIGN KEY (account_id, {column}) "
        f"REFERENCES {table} (account_id, id) DEFERRABLE INITIALLY DEFERRED"
        for constraint, (column, table, _) in KEYS.items()
    ),
]


def postgresql_only(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)  # none: no placeholders to merge

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0017_bulk_job_waiting_turn")]

    operations = [migrations.RunPython(postgresql_only(FORWARD), postgresql_only(BACKWARD))]
