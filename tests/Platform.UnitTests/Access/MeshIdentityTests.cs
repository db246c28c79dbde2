using Microsoft.AspNetCore.Http;
using Platform.Api.Access;

namespace Platform.UnitTests.Access;

public sealed class MeshIdentityTests
{
    [Fact]
    public void Istio_names_the_caller_by_the_spiffe_uri_of_its_certificate()
    {
        var headers = new HeaderDictionary
        {
            ["x-forwarded-client-cert"] = "By=spiffe://cluster.local/ns/platform/sa/api;Hash=abc;Subject=\"\";URI=spiffe://cluster.local/ns/ci/sa/runner",
        };
        Assert.Equal("spiffe://cluster.local/ns/ci/sa/runner", MeshIdentityHandler.Identity("Istio", headers));
        Assert.Null(MeshIdentityHandler.Identity("Istio", new HeaderDictionary()));
    }

    [Fact]
    public void Linkerd_names_the_caller_by_its_client_id() =>
        Assert.Equal("runner.ci.serviceaccount.identity.linkerd.cluster.local",
            MeshIdentityHandler.Identity("Linkerd", new HeaderDictionary { ["l5d-client-id"] = "runner.ci.serviceaccount.identity.linkerd.cluster.local" }));
}
