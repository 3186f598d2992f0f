using Connet.Server.Control;

namespace Connet.Server.Tests;

public sealed class ReconnectTokensTests
{
    [Fact]
    public void SealedId_OpensToTheSameId()
    {
        using var tokens = ReconnectTokens.CreateRandom();
        Assert.Equal("client-42", tokens.TryOpen(tokens.Seal("client-42")));
    }

    [Fact]
    public void TamperedTruncatedOrForeignTokens_DoNotOpen()
    {
        using var tokens = ReconnectTokens.CreateRandom();
        using var otherServer = ReconnectTokens.CreateRandom();
        var token = tokens.Seal("client-42");
        var tampered = (byte[])token.Clone();
        tampered[^1] ^= 1;

        Assert.Null(tokens.TryOpen(tampered));
        Assert.Null(tokens.TryOpen(token.AsSpan(0, token.Length - 1)));
        Assert.Null(tokens.TryOpen([]));
        Assert.Null(otherServer.TryOpen(token));
    }

    [Fact]
    public void Seal_UsesAFreshNonceEachTime()
    {
        using var tokens = ReconnectTokens.CreateRandom();
        Assert.NotEqual(tokens.Seal("same"), tokens.Seal("same"));
    }

    [Fact]
    public void ClientAndRelayTokens_OnlyOpenForTheirOwnPurpose()
    {
        using var tokens = ReconnectTokens.CreateRandom();
        var clientToken = tokens.Seal("id-1");
        var relayToken = tokens.Seal("id-1", ReconnectTokenPurpose.Relay);

        Assert.Equal("id-1", tokens.TryOpen(relayToken, ReconnectTokenPurpose.Relay));
        Assert.Equal("id-1", tokens.TryOpen(clientToken, ReconnectTokenPurpose.Client));
        Assert.Null(tokens.TryOpen(relayToken));
        Assert.Null(tokens.TryOpen(clientToken, ReconnectTokenPurpose.Relay));
    }
}
