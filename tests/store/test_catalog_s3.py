"""The catalog document on S3 (moto's server on 127.0.0.1): built by the worker into the bucket, served by a
302 to a short-lived presigned URL (the default) or streamed from the bucket (``CATALOG_DELIVERY=stream``)."""

import gzip
import json

import pytest
import requests
from django.http import StreamingHttpResponse

from store.catalog.services.document import catalog_rebuild
from store.models import CatalogDocument
from tests.flows.test_version_journey_s3 import BUCKET, moto_endpoint, s3_storage  # noqa: F401 - fixtures

from .conftest import make_published_app, read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.network, pytest.mark.usefixtures("no_ratelimits")]
BASE = "http://testserver"


@pytest.fixture
def session():
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def built(s3_storage, settings):  # noqa: F811 - the fixture imported above
    settings.CATALOG_META_MEMO_SECONDS = 0
    for _ in range(3):
        make_published_app()
    catalog_rebuild(BASE)
    return CatalogDocument.objects.get(base_url=BASE)


def test_the_worker_writes_both_forms_to_the_bucket(built, s3_storage):  # noqa: F811
    identity = s3_storage.head_object(Bucket=BUCKET, Key=f"packages/{built.key}")
    zipped = s3_storage.head_object(Bucket=BUCKET, Key=f"packages/{built.gzip_key}")
    assert identity["ContentType"] == "application/json" and identity["ContentLength"] == built.size
    assert zipped["ContentEncoding"] == "gzip" and zipped["ContentLength"] == built.gzip_size
    assert built.storage_etags == [identity["ETag"], zipped["ETag"]]


def test_a_full_response_redirects_to_a_presigned_url(api_client, built, session, s3_storage):  # noqa: F811
    response = api_client.get("/v1/store/catalog")
    assert response.status_code == 302
    assert response["ETag"] == built.etag and response["Cache-Control"] == "no-cache"
    location = response["Location"]
    assert "X-Amz-Signature" in location and "X-Amz-Expires=300" in location
    fetched = session.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "application/json"
    document = fetched.json()
    assert document["count"] == 3 and document["detail_url_template"].startswith(BASE)
    # A client that followed the redirect holds S3's ETag: it still gets its 304.
    assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=fetched.headers["ETag"]).status_code == 304

    zipped = api_client.get("/v1/store/catalog", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped.status_code == 302 and zipped["ETag"] == built.etag[:-1] + '-gzip"'
    raw = session.get(zipped["Location"], timeout=10, stream=True)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw.raw.read())) == document


def test_stream_delivery_reads_the_object_in_chunks(api_client, built, settings):
    settings.CATALOG_DELIVERY = "stream"
    response = api_client.get("/v1/store/catalog", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    assert response["Content-Encoding"] == "gzip" and response["Content-Length"] == str(built.gzip_size)
    assert read_catalog(response)["count"] == 3
