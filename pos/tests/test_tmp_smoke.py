import pytest, subprocess
from decimal import Decimal as D
from inventory.tests.factories import ProductFactory, stock_in
from pos.models import Sale
pytestmark = pytest.mark.django_db

def test_smoke(employee_client, employee, branch, manager_client, manager):
    p = ProductFactory(is_favourite=True, name="Soap", tax_class="B")
    q = ProductFactory(is_favourite=True, name="Bread", tax_class="A", selling_price=D("55"))
    stock_in(p, branch, 5); stock_in(q, branch, 5)
    r = employee_client.post("/till/scan/", {"q": p.barcode}, HTTP_HX_REQUEST="true")
    r = employee_client.post("/till/scan/", {"q": "2*"+q.barcode}, HTTP_HX_REQUEST="true")
    r = employee_client.get("/till/pay/", HTTP_HX_REQUEST="true")
    assert b"Open the cash session" in r.content
    r = employee_client.post("/till/pay/session/", {"opening_float": "1000"}, HTTP_HX_REQUEST="true")
    assert b"Complete the sale" in r.content, r.content.decode()
    sale = Sale.objects.get(cashier=employee, status="OPEN")
    r = employee_client.post("/till/checkout/", {"sale": sale.pk, "idempotency_key": "abc", "cash": "500"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r["HX-Redirect"], r.content.decode()
    r = employee_client.get(r["HX-Redirect"])
    assert r.status_code == 200
    open("/tmp/tt/receipt.html","wb").write(r.content)
    r = employee_client.get(f"/sales/{sale.pk}/receipt.pdf")
    assert r.status_code == 200, r
    open("/tmp/tt/receipt.pdf","wb").write(r.content)
    print(subprocess.run(["pdftotext","-layout","/tmp/tt/receipt.pdf","-"],capture_output=True,text=True).stdout)
    for url in ["/sales/", f"/sales/{sale.pk}/", f"/sales/{sale.pk}/return/", f"/sales/{sale.pk}/void/", "/sales/find/?q="+str(Sale.objects.get(pk=sale.pk).number), "/customers/", "/customers/new/"]:
        r = manager_client.get(url)
        assert r.status_code in (200, 302), (url, r.content[:3000])
    r = manager_client.get(f"/sales/{sale.pk}/receipt/")
    assert b"Print a copy" in r.content
