namespace Connet.Quic.Tests.Interop;

public sealed class InteropPayloadTests
{
    // Expected bytes printed by payload() in tests/interop/common.mjs, so both sides agree.
    [Theory]
    [InlineData(1u, 10, "2120040001060804c5a8")]
    [InlineData(0u, 8, "19460c513e552ee0")]
    public void MatchesTheNodeScriptsPayload(uint seed, int length, string expectedHex)
    {
        Assert.Equal(expectedHex, Convert.ToHexStringLower(InteropPayload.Generate(length, seed)));
    }

    [Fact]
    public void OneMebibyteMatchesTheNodeScriptsDigest()
    {
        var payload = InteropPayload.Generate(NodeEchoClientOptions.OneMebibyte, 1);

        Assert.Equal(
            "0ecb850fce5b65a04282a0faa4bb46b985c9726dbca042e0bbc83a31f10f03ff",
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)));
    }
}
