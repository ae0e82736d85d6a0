def test_health_answers(api_client, db):
    response = api_client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["backends"]["database"]["healthy"] is True
    assert response["X-Request-ID"]


def test_unknown_v1_path_is_json_404(api_client, db):
    response = api_client.get("/v1/nope/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
