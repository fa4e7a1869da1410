def test_city_is_seeded(city, grid, grid_worker):
    assert grid.path.startswith(city.path)
    assert grid_worker.scope("geo.view_area").covers(grid.path)


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not-found"


def test_openapi_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3")
