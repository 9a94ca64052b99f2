"""PDF documents of the cash desk (Z/X report, customer receipt) rendered by WeasyPrint."""

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string

PDF_STYLESHEET = "css/cashdesk-pdf.css"


def render_pdf(request, template: str, context: dict) -> bytes:
    from weasyprint import CSS, HTML  # imported late: Pango loads only when a PDF is asked for  # noqa: PLC0415 - WeasyPrint takes a second to load: only processes that print pay for it

    html = render_to_string(template, context, request=request)
    stylesheet = finders.find(PDF_STYLESHEET)
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(
        stylesheets=[CSS(filename=stylesheet)] if stylesheet else None
    )


def pdf_response(request, template: str, context: dict, *, filename: str, inline: bool = True) -> HttpResponse:
    response = HttpResponse(render_pdf(request, template, context), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
