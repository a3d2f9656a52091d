"""The business's logo: POST /settings/general/logo/ uploads or removes it (the General settings
page's form, templates/monitoring/settings/general_actions.html), and GET /branding/logo serves it
to everyone (the portal, the sign-in page) from our own origin. Checking and keeping the file is
siteconfig.logo's."""
from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from accounts.access import PUBLIC, access, perm
from siteconfig import logo

# The SVG is checked to hold nothing active; this header makes sure nothing in it could run or load
# even if the check missed something (inline styles are plain drawing).
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
FOREVER = "public, max-age=31536000, immutable"  # the URL's ?v= is the content's digest


class LogoForm(forms.Form):
    logo = forms.FileField(label="Logo", error_messages={"required": "Choose a PNG or SVG file to upload."})

    def clean_logo(self):
        upload = self.cleaned_data["logo"]
        if upload.size > logo.MAX_BYTES:  # refused before it is read into memory
            raise forms.ValidationError(logo.too_big(upload.size))
        data = upload.read()
        try:
            logo.check(data)
        except logo.LogoRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return data


@access(perm("siteconfig.change_value"))
@require_POST
def logo_upload(request):
    if "remove" in request.POST:
        removed = logo.remove()
        (messages.success if removed else messages.info)(request, "Logo removed." if removed else "There was no logo.")
        return redirect("settings-section", "general")
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        logo.save(form.cleaned_data["logo"])
        messages.success(request, "Logo saved: the portal, the sign-in page and the menu show it now.")
    else:
        messages.error(request, "Logo not saved: " + " ".join(form.errors["logo"]))
    return redirect("settings-section", "general")


@access(PUBLIC)
@require_safe
def branding_logo(request):
    found = logo.current()
    if found is None:
        return HttpResponse("No logo.", status=404, content_type="text/plain")
    etag = f'"{found.name}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(bytes(found.data), content_type=found.content_type)
        response["Content-Disposition"] = f'inline; filename="logo.{found.name.rsplit(".", 1)[-1]}"'
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    if found.content_type == "image/svg+xml":
        response["Content-Security-Policy"] = SVG_POLICY
    # An old ?v= (or none) still gets the current logo, briefly cached, so a page cached with the
    # old address shows the new logo soon.
    response["Cache-Control"] = FOREVER if request.GET.get("v") == found.name else "public, max-age=300"
    return response
