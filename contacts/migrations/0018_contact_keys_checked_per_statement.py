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
  they do: checked at the commit, as the deferred foreign keys were; nor can their table
  be truncated without the contacts'.
Both sides lock the list's or user's row first, so a deletion and an insert naming it wait
for each other and the one that comes second fails. That holds under READ COMMITTED, the
service's isolation level: a deletion or move at another level is refused (its snapshot
could not see contacts committed meanwhile). Unlike the deferred keys, a contact must be
written after its list and owner, which every writer of the service does.
The errors are the foreign keys' own: SQLSTATE 23503, message and constraint name. Tables
are named with their schema: a temporary table of the same name cannot stand in for one.
SQLite keeps Django's plain foreign keys.
"""

from django.db import migrations

KEYS = {
    # constraint: (the contact's column, the table it names, what the error says)
    "contact_list_of_its_account": ("list_id", "lists_contactlist", "list must be a list"),
    "contact_owner_of_its_account": ("owner_id", "accounts_user", "owner must be a user"),
}
_VIOLATION = """RAISE foreign_key_violation USING
      MESSAGE = 'insert or update on table "contacts_contact" violates foreign key constraint "{constraint}"',
      DETAIL = 'A contact''s {says} of its account.', CONSTRAINT = '{constraint}', TABLE = 'contacts_contact';"""


def _held_check(schema: str, column: str, table: str, constraint: str, says: str) -> str:
    """Statement-level: the distinct (account, key) pairs of the new rows, each locked in `table`."""
    return f"""
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT account_id, {column} FROM added) named;
  PERFORM 1 FROM {schema}.{table} t JOIN (SELECT DISTINCT account_id, {column} FROM added) named
    ON t.account_id = named.account_id AND t.id = named.{column} FOR KEY SHARE OF t;
  GET DIAGNOSTICS held = ROW_COUNT;
  IF held < wanted THEN
    {_VIOLATION.format(constraint=constraint, says=says)}
  END IF;"""


def _row_check(schema: str, column: str, table: str, constraint: str, says: str) -> str:
    """Row-level, on update: the new (account, key) pair, if it changed."""
    return f"""
  IF (NEW.account_id, NEW.{column}) IS DISTINCT FROM (OLD.account_id, OLD.{column}) THEN
    PERFORM 1 FROM {schema}.{table} WHERE account_id = NEW.account_id AND id = NEW.{column} FOR KEY SHARE;
    IF NOT FOUND THEN
      {_VIOLATION.format(constraint=constraint, says=says)}
    END IF;
  END IF;"""


def _forward(schema: str) -> list[str]:
    def checks(make) -> str:
        return "".join(make(schema, *spec[:2], constraint, spec[2]) for constraint, spec in KEYS.items())

    contacts = f"{schema}.contacts_contact"
    return [
        *(f"ALTER TABLE {contacts} DROP CONSTRAINT {constraint}" for constraint in KEYS),
        f"""CREATE FUNCTION {schema}.contact_keys_added_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted bigint;
  held bigint;
BEGIN{checks(_held_check)}
  RETURN NULL;
END $$""",
        f"""CREATE TRIGGER contact_keys_added AFTER INSERT ON {contacts}
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {schema}.contact_keys_added_check()""",
        f"""CREATE FUNCTION {schema}.contact_keys_changed_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{checks(_row_check)}
  RETURN NULL;
END $$""",
        # Only when a key changes (a bulk update writes the same list and owner back).
        f"""CREATE TRIGGER contact_keys_changed AFTER UPDATE OF account_id, list_id, owner_id ON {contacts}
  FOR EACH ROW WHEN ((OLD.account_id, OLD.list_id, OLD.owner_id) IS DISTINCT FROM (NEW.account_id, NEW.list_id, NEW.owner_id))
  EXECUTE FUNCTION {schema}.contact_keys_changed_check()""",
        # TG_ARGV: the contact's column naming the row, and the constraint the error names.
        f"""CREATE FUNCTION {schema}.contact_key_unreferenced_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE account_id = $1 AND id = $2)', TG_TABLE_SCHEMA, TG_TABLE_NAME)
    INTO named USING OLD.account_id, OLD.id;
  IF named THEN
    RETURN NULL;  -- moved and moved back, or deleted and made again
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM {contacts} WHERE account_id = $1 AND %I = $2)', TG_ARGV[0])
    INTO named USING OLD.account_id, OLD.id;
  IF named THEN
    RAISE foreign_key_violation USING
      MESSAGE = format('update or delete on table "%s" violates foreign key constraint "%s" on table "contacts_contact"',
                       TG_TABLE_NAME, TG_ARGV[1]),
      DETAIL = 'Contacts of its account still name it.', CONSTRAINT = TG_ARGV[1], TABLE = 'contacts_contact';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE serialization_failure USING
      MESSAGE = format('a row of "%s" that contacts can name is deleted or moved only under READ COMMITTED', TG_TABLE_NAME),
      DETAIL = 'The transaction''s snapshot cannot see contacts committed since it began.';
  END IF;
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION {schema}.contact_key_tables_truncated_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM {contacts}) THEN
    RAISE feature_not_supported USING
      MESSAGE = 'cannot truncate a table referenced in a foreign key constraint',
      DETAIL = format('Table "contacts_contact" references "%s".', TG_TABLE_NAME),
      HINT = 'Truncate table "contacts_contact" in the same statement.';
  END IF;
  RETURN NULL;
END $$""",
        *(
            statement
            for constraint, (column, table, _) in KEYS.items()
            for statement in (
                f"""CREATE CONSTRAINT TRIGGER {constraint}_deleted AFTER DELETE ON {schema}.{table}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION {schema}.contact_key_unreferenced_check('{column}', '{constraint}')""",
                f"""CREATE CONSTRAINT TRIGGER {constraint}_moved AFTER UPDATE OF account_id, id ON {schema}.{table}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN ((OLD.account_id, OLD.id) IS DISTINCT FROM (NEW.account_id, NEW.id))
  EXECUTE FUNCTION {schema}.contact_key_unreferenced_check('{column}', '{constraint}')""",
                f"""CREATE TRIGGER {constraint}_truncated AFTER TRUNCATE ON {schema}.{table}
  FOR EACH STATEMENT EXECUTE FUNCTION {schema}.contact_key_tables_truncated_check()""",
            )
        ),
    ]


def _backward(schema: str) -> list[str]:
    return [
        *(
            f"DROP TRIGGER {constraint}_{kind} ON {schema}.{table}"
            for constraint, (_, table, _) in KEYS.items()
            for kind in ("deleted", "moved", "truncated")
        ),
        f"DROP TRIGGER contact_keys_changed ON {schema}.contacts_contact",
        f"DROP TRIGGER contact_keys_added ON {schema}.contacts_contact",
        *(
            f"DROP FUNCTION {schema}.{name}()"
            for name in (
                "contact_key_tables_truncated_check", "contact_key_unreferenced_check",
                "contact_keys_changed_check", "contact_keys_added_check",
            )
        ),
        *(
            f"ALTER TABLE {schema}.contacts_contact ADD CONSTRAINT {constraint} FOREIGN KEY (account_id, {column}) "
            f"REFERENCES {schema}.{table} (account_id, id) DEFERRABLE INITIALLY DEFERRED"
            for constraint, (column, table, _) in KEYS.items()
        ),
    ]


def _on_postgresql(statements_of):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT quote_ident(current_schema())")
            schema = cursor.fetchone()[0]
        for statement in statements_of(schema):
            schema_editor.execute(statement, params=None)  # none: no placeholders to merge

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0017_bulk_job_waiting_turn")]

    operations = [migrations.RunPython(_on_postgresql(_forward), _on_postgresql(_backward))]
