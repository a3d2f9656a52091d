"""Package pages (/packages/…): all packages, add/edit, on sale or not, and package groups."""
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access, perm
from audit import trail
from lib.listing import list_page

from .. import services
from ..forms import PackageFilter, PackageForm, PackageGroupForm
from ..models import Package, PackageGroup, Subscription


@access(perm("hotspot.view_package"))
def package_list(request):
    filters = PackageFilter(request.GET)
    packages = Package.objects.select_related("group").order_by("display_order", "price")
    return list_page(request, filters.apply(packages), "hotspot/package_list.html", filters=filters, on_page=_sold,
                     groups=PackageGroup.objects.all(), group=filters.value("group"),
                     can_change=request.user.has_perm("hotspot.change_package"))


def _sold(page) -> None:
    """Each listed package's subscriptions, counted for the page's packages only, in one grouped
    query read from the subscriptions' package index alone (annotating the list joined and grouped
    every subscription of every package: 154,000 rows at an ISP's size, on each view)."""
    counts = dict(Subscription.objects.filter(package__in=[p.pk for p in page]).order_by()
                  .values_list("package").annotate(n=Count("*")).values_list("package", "n"))
    for package in page:
        package.sold = counts.get(package.pk, 0)


def _save(request, form):
    try:
        services.save_package(form.save(commit=False))
    except services.PackageError as refused:
        form.add_error(None, str(refused))
        return None
    messages.success(request, f"Saved {form.instance.name}.")
    return redirect("package-list")


@access(perm("hotspot.add_package"))
def package_add(request):
    form = PackageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _save(request, form)
        if done:
            return done
    return render(request, "hotspot/package_form.html", {"form": form, "adding": True})


@access(perm("hotspot.change_package"))
def package_edit(request, pk):
    package = get_object_or_404(Package, pk=pk)
    form = PackageForm(request.POST or None, instance=package)
    if request.method == "POST" and form.is_valid():
        done = _save(request, form)
        if done:
            return done
    return render(request, "hotspot/package_form.html", {"form": form, "package": package, "adding": False,
                                                         "audit_entries": trail.history(package)})


@access(perm("hotspot.change_package"))
@require_POST
def package_set_active(request, pk):
    package = get_object_or_404(Package, pk=pk)
    active = request.POST.get("active") == "1"
    services.set_package_active(package, active)
    messages.success(request, f"{package.name} is {'on sale' if active else 'off sale'}.")
    return redirect("package-list")


@access(perm("hotspot.delete_package"))
@require_POST
def package_delete(request, pk):
    package = get_object_or_404(Package, pk=pk)
    try:
        services.delete_package(package)
    except services.PackageError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Deleted {package.name}.")
    return redirect("package-list")


@access(perm("hotspot.view_packagegroup"))
def group_list(request):
    form = PackageGroupForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("hotspot.add_packagegroup"):
            return render(request, "403.html", {"message": "Your role cannot add package groups."}, status=403)
        if form.is_valid():
            services.save_group(form.save(commit=False))
            messages.success(request, f"Added the group {form.instance.name}.")
            return redirect("package-groups")
    groups = PackageGroup.objects.annotate(count=Count("packages")).order_by("display_order", "name")
    return list_page(request, groups, "hotspot/package_groups.html", form=form,
                     can_add=request.user.has_perm("hotspot.add_packagegroup"))
