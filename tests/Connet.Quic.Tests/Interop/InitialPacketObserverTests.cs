using Connet.Quic.Tests.Crypto;

namespace Connet.Quic.Tests.Interop;

/// <summary>The observer the interop tests rely on, against the sample packets of RFC 9001 Appendix A.</summary>
public sealed class InitialPacketObserverTests
{
    // RFC 9001 A.4: a Retry giving the client the new connection ID f067a5502a4262b5.
    private const string Retry =
        "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";

    [Fact]
    public void ReadsTheGroupsOfTheSampleClientHelloAndServerHello()
    {
        var observer = new InitialPacketObserver();

        observer.ObserveFromClient(Hex.Bytes(Rfc9001Vectors.ClientInitialProtected));
        observer.ObserveFromServer(Hex.Bytes(Rfc9001Vectors.ServerInitialProtected));

        var seen = observer.Snapshot();
        var clientHello = Assert.Single(seen.ClientHellos);
        Assert.Equal([InitialPacketObserver.X25519], clientHello.KeyShareGroups);
        Assert.Equal([InitialPacketObserver.X25519, InitialPacketObserver.Secp256r1, (ushort)0x0018], clientHello.SupportedGroups);
        var serverHello = Assert.Single(seen.ServerHellos);
        Assert.False(serverHello.IsHelloRetryRequest);
        Assert.Equal(InitialPacketObserver.X25519, serverHello.Group);
        Assert.Equal(0, seen.Undecryptable);
        Assert.Equal(0, seen.Retries);
    }

    [Fact]
    public void AfterARetryOnlyInitialsUnderTheNewConnectionIdCount()
    {
        var observer = new InitialPacketObserver();
        observer.ObserveFromClient(Hex.Bytes(Rfc9001Vectors.ClientInitialProtected));

        observer.ObserveFromServer(Convert.FromHexString(Retry));
        observer.ObserveFromClient(Hex.Bytes(Rfc9001Vectors.ClientInitialProtected));

        // The sample Initial is protected with keys from the old connection ID, so after the
        // Retry it no longer decrypts, and the ClientHello sent before the Retry is forgotten.
        var seen = observer.Snapshot();
        Assert.Equal(1, seen.Retries);
        Assert.Equal(1, seen.Undecryptable);
        Assert.Empty(seen.ClientHellos);
    }

    [Fact]
    public void ACorruptedInitialIsCountedNotRead()
    {
        var observer = new InitialPacketObserver();
        var packet = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);
        packet[^1] ^= 1;

        observer.ObserveFromClient(packet);

        var seen = observer.Snapshot();
        Assert.Equal(1, seen.Undecryptable);
        Assert.Empty(seen.ClientHellos);
    }
}
