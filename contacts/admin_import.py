"""The admin's "Import contacts" page: upload a CSV, check the mapping, import through the
same bulk service as the API, and watch the progress live."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.models import Account, User
from lists.models import ContactList
from quotas.exceptions import QuotaExceeded

from .bulk_input import BodyProblems, bulk_request_parse
from .csv_import import CsvProblem, CsvTable, csv_column_of, csv_contacts, csv_read
from .models import BulkJob
from .services import BulkFlags, bulk_job_create

SESSION_KEY = "contact_import"
PREVIEW_ROWS = 10


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8; comma, semicolon or tab separated; up to 10,000 rows.")
    account = forms.ModelChoiceField(Account.objects.order_by("name"), required=False)
    existing_list = forms.ModelChoiceField(ContactList.objects.none(), required=False, label="Existing list")
    new_list = forms.CharField(required=False, max_length=200, label="…or a new list")
    default_owner = forms.ModelChoiceField(
        User.objects.none(), required=False, help_text="Owner of contacts whose row names none (default: you)."
    )
    move_to_list = forms.BooleanField(required=False, label="Move existing contacts to this list")
    replace_owner = forms.BooleanField(required=False, label="Replace the owner of existing contacts")

    def __init__(self, *args, operator: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.operator = operator
        lists = ContactList.objects.select_related("account").order_by("account__name", "name")
        owners = User.objects.filter(account__isnull=False, is_active=True).order_by("email")
        if not operator.is_superuser:
            del self.fields["account"]
            lists = lists.filter(account_id=operator.account_id)
            owners = owners.filter(account_id=operator.account_id)
        self.fields["existing_list"].queryset = lists
        self.fields["existing_list"].label_from_instance = lambda lst: f"{lst.account} / {lst.name}"
        self.fields["default_owner"].queryset = owners
        self.fields["default_owner"].label_from_instance = lambda user: f"{user.email} ({user.account})"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # the API's own limit for a bulk body
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than the {limit / 2**20:,.0f} MB this service accepts.")
        return upload

    def clean(self):
        data = super().clean()
        existing, new = data.get("existing_list"), (data.get("new_list") or "").strip()
        if bool(existing) == bool(new):
            raise forms.ValidationError("Choose an existing list or name a new one (not both).")
        account = existing.account if existing else data.get("account") or self.operator.account
        if account is None:
            raise forms.ValidationError("Choose the account to import into.")
        owner = data.get("default_owner") or (self.operator if self.operator.account_id == account.pk else None)
        if owner is None or owner.account_id != account.pk:
            raise forms.ValidationError(f"Choose a default owner among the users of {account}.")
        data.update(account=account, default_owner=owner, new_list=new)
        return data


def import_start(request, admin_site):
    """Upload the file and choose where it goes; then the preview."""
    _check_permission(request)
    form = ImportForm(request.POST or None, request.FILES or None, operator=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            table = csv_read(form.cleaned_data["file"].read())
        except CsvProblem as problem:
            form.add_error("file", str(problem))
        else:
            request.session[SESSION_KEY] = _stored(form.cleaned_data, table)
            return redirect("admin:contacts_contact_import_preview")
    return TemplateResponse(request, "admin/contacts/contact/import.html", _context(request, admin_site, form=form))


def import_preview(request, admin_site):
    """Show the mapping and the first rows; on POST, import."""
    _check_permission(request)
    stored = request.session.get(SESSION_KEY)
    if not stored:
        return redirect("admin:contacts_contact_import")
    table = _table(stored)
    vars_columns = set(table.unknown)
    problems = []
    if request.method == "POST":
        vars_columns = {int(c) for c in request.POST.getlist("vars_columns") if c.isdigit()} & set(table.unknown)
        try:
            job = _import(request, stored, table, vars_columns)
        except BodyProblems as exc:
            problems = [_problem_in_file(problem, table) for problem in exc.errors]
            messages.error(request, f"Nothing was imported: the file has {len(problems)} problems (listed below).")
        except QuotaExceeded as exc:
            messages.error(request, f"Nothing was imported: {exc.reason}: {exc.detail}")
        else:
            del request.session[SESSION_KEY]
            return redirect("admin:contacts_contact_import_progress", job_id=job.pk)
    context = _context(
        request,
        admin_site,
        stored=stored,
        table=table,
        columns=[
            {"index": i, "header": h, "field": table.mapping.get(i), "as_vars": i in vars_columns, "unknown": i in table.unknown}
            for i, h in enumerate(table.headers)
        ],
        preview=list(zip(table.lines, table.rows))[:PREVIEW_ROWS],
        problems=problems,
    )
    return TemplateResponse(request, "admin/contacts/contact/import_preview.html", context)


def import_progress(request, admin_site, job_id):
    """The live progress of an import, driven by the job's WebSocket events."""
    _check_permission(request)
    job = get_object_or_404(BulkJob.objects.select_related("list", "account").defer("payload"), pk=job_id, user=request.user)
    context = _context(
        request,
        admin_site,
        job=job,
        contacts_url=reverse("admin:contacts_contact_changelist") + f"?list__id__exact={job.list_id}",
        job_url=reverse("admin:contacts_bulkjob_change", args=[job.pk]),
    )
    return TemplateResponse(request, "admin/contacts/contact/import_progress.html", context)


def _import(request, stored: dict, table: CsvTable, vars_columns: set[int]) -> BulkJob:
    list_ref = {"id": stored["list_id"]} if stored["list_id"] else {"name": stored["new_list"]}
    body = bulk_request_parse({"list": list_ref, "contacts": csv_contacts(table, vars_columns=vars_columns)})
    flags = BulkFlags(
        move_to_list=stored["move_to_list"],
        replace_owner=stored["replace_owner"],
        account_id=stored["account_id"],
        default_owner_id=stored["default_owner_id"],
        default_source="import",
    )
    return bulk_job_create(user=request.user, request=body, flags=flags)


def _problem_in_file(problem: dict, table: CsvTable) -> dict:
    """A problem of the bulk request, told in the file's terms: line and column."""
    index = problem.get("index")
    return {
        "line": table.lines[index] if index is not None else None,
        "column": csv_column_of(table, problem.get("field", "")),
        "message": problem["message"],
    }


def _stored(data: dict, table: CsvTable) -> dict:
    return {
        "file_name": data["file"].name,
        "account_id": data["account"].pk,
        "account_name": data["account"].name,
        "list_id": str(data["existing_list"].pk) if data["existing_list"] else None,
        "new_list": data["new_list"],
        "list_name": data["existing_list"].name if data["existing_list"] else data["new_list"],
        "default_owner_id": data["default_owner"].pk,
        "move_to_list": data["move_to_list"],
        "replace_owner": data["replace_owner"],
        "table": {
            "headers": table.headers, "rows": table.rows, "lines": table.lines, "delimiter": table.delimiter,
            "mapping": list(table.mapping.items()), "unknown": table.unknown,
        },
    }


def _table(stored: dict) -> CsvTable:
    # The session is JSON: the mapping travels as pairs, since JSON keys are strings.
    return CsvTable(**{**stored["table"], "mapping": dict(stored["table"]["mapping"])})


def _check_permission(request) -> None:
    if not request.user.has_perm("contacts.add_contact"):
        raise PermissionDenied


def _context(request, admin_site, **extra) -> dict:
    return {**admin_site.each_context(request), "opts": BulkJob._meta, "title": "Import contacts", **extra}
