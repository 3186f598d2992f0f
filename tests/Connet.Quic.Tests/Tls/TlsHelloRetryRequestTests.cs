using Connet.Quic.Core;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Tls;
using static Connet.Quic.Tests.Tls.TlsHandshakeTests;

namespace Connet.Quic.Tests.Tls;

/// <summary>The client's checks on a HelloRetryRequest (RFC 8446 §4.1.4), fed hand-made server messages.</summary>
public class TlsHelloRetryRequestTests
{
    [Fact]
    public void Retry_for_the_group_already_shared_is_illegal()
    {
        using ITlsSession client = StartClient();
        byte[] retry = TlsServerHello.Encode([], CipherSuite.Aes128GcmSha256, TlsNamedGroup.X25519, keyExchange: null);

        AssertAlert(TlsAlert.IllegalParameter, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, retry)));
    }

    [Fact]
    public void Retry_for_a_group_not_offered_is_illegal()
    {
        using ITlsSession client = StartClient(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1]);
        byte[] retry = TlsServerHello.Encode([], CipherSuite.Aes128GcmSha256, TlsNamedGroup.Secp384r1, keyExchange: null);

        AssertAlert(TlsAlert.IllegalParameter, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, retry)));
    }

    [Fact]
    public void A_second_retry_is_an_unexpected_message()
    {
        using ITlsSession client = StartClient(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1, TlsNamedGroup.Secp384r1]);
        client.HandleCryptoData(EncryptionLevel.Initial, TlsServerHello.Encode([], CipherSuite.Aes128GcmSha256, TlsNamedGroup.Secp256r1, keyExchange: null));
        Assert.True(client.TryTakeOutgoing(out EncryptionLevel level, out byte[] secondHello));
        Assert.Equal(EncryptionLevel.Initial, level);
        Assert.Equal((byte)TlsHandshakeType.ClientHello, secondHello[0]);

        byte[] again = TlsServerHello.Encode([], CipherSuite.Aes128GcmSha256, TlsNamedGroup.Secp384r1, keyExchange: null);
        AssertAlert(TlsAlert.UnexpectedMessage, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, again)));
    }

    [Fact]
    public void Retry_with_a_suite_not_offered_is_illegal()
    {
        using ITlsSession client = StartClient(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1], suites: [CipherSuite.Aes128GcmSha256]);
        byte[] retry = TlsServerHello.Encode([], CipherSuite.Aes256GcmSha384, TlsNamedGroup.Secp256r1, keyExchange: null);

        AssertAlert(TlsAlert.IllegalParameter, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, retry)));
    }

    [Fact]
    public void Server_hello_with_a_share_for_another_group_is_illegal()
    {
        using ITlsSession client = StartClient();
        using TlsKeyShare share = TlsKeyShare.Create(TlsNamedGroup.Secp256r1);
        byte[] hello = TlsServerHello.Encode(new byte[32], CipherSuite.Aes128GcmSha256, TlsNamedGroup.Secp256r1, share.PublicKey);

        AssertAlert(TlsAlert.IllegalParameter, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, hello)));
    }

    [Fact]
    public void Handshake_data_after_the_server_hello_at_initial_level_is_unexpected()
    {
        using ITlsSession client = StartClient();
        using TlsKeyShare share = TlsKeyShare.Create(TlsNamedGroup.X25519);
        byte[] hello = TlsServerHello.Encode(new byte[32], CipherSuite.Aes128GcmSha256, TlsNamedGroup.X25519, share.PublicKey);

        AssertAlert(TlsAlert.UnexpectedMessage, Assert.Throws<QuicProtocolException>(() => client.HandleCryptoData(EncryptionLevel.Initial, [.. hello, 8, 0, 0, 2, 0, 0])));
    }

    private static ITlsSession StartClient(TlsNamedGroup[]? groups = null, CipherSuite[]? suites = null)
    {
        ITlsSession client = TlsSession.CreateClient(TlsPair.ClientConfig(groups: groups ?? [TlsNamedGroup.X25519], suites: suites), [1]);
        client.Start();
        Assert.True(client.TryTakeOutgoing(out _, out _));
        return client;
    }
}
