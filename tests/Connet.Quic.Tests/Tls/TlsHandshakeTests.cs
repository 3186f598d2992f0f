using System.Text;
using Connet.Quic.Core;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Tls;

public class TlsHandshakeTests
{
    [Theory]
    [InlineData((ushort)0x1301)]
    [InlineData((ushort)0x1302)]
    [InlineData((ushort)0x1303)]
    public void Handshake_completes_with_each_cipher_suite(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        using var pair = new TlsPair(TlsPair.ClientConfig(suites: [suite]), TlsPair.ServerConfig());
        pair.Drive();

        AssertCompleted(pair, suite);
    }

    [Theory]
    [InlineData((ushort)0x001d)]
    [InlineData((ushort)0x0017)]
    [InlineData((ushort)0x0018)]
    public void Handshake_completes_with_each_group(ushort groupCode)
    {
        var group = (TlsNamedGroup)groupCode;
        using var pair = new TlsPair(TlsPair.ClientConfig(groups: [group]), TlsPair.ServerConfig(groups: [group]));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes128GcmSha256);
        Assert.Equal(1, pair.ClientSent.Count(m => m.Level == EncryptionLevel.Initial));
    }

    [Fact]
    public void Handshake_survives_one_byte_deliveries()
    {
        using var mutual = new TlsPair(
            TlsPair.ClientConfig(clientCertificate: TestCertificates.Client),
            TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Client)))
        {
            ChunkSize = 1,
        };
        mutual.Drive();

        AssertCompleted(mutual, CipherSuite.Aes128GcmSha256);
    }

    [Fact]
    public void Server_negotiates_its_preferred_suite_and_alpn_among_the_clients_offers()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(suites: [CipherSuite.Aes128GcmSha256, CipherSuite.ChaCha20Poly1305Sha256], alpn: ["h3", "connet", "other"]),
            TlsPair.ServerConfig(suites: [CipherSuite.ChaCha20Poly1305Sha256, CipherSuite.Aes128GcmSha256], alpn: ["other", "connet"]));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.ChaCha20Poly1305Sha256, "other");
    }

    [Fact]
    public void Client_sends_no_sni_for_an_ip_literal()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(targetHost: "127.0.0.1", callback: (_, _, _, errors) => errors == System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch),
            TlsPair.ServerConfig());
        pair.Drive();

        Assert.True(pair.Server.IsHandshakeComplete);
        Assert.Null(pair.Server.ServerName);
        Assert.Null(pair.Client.ServerName);
    }

    [Fact]
    public void HelloRetryRequest_when_the_clients_share_is_for_a_group_the_server_lacks()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1]),
            TlsPair.ServerConfig(groups: [TlsNamedGroup.Secp256r1]));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes128GcmSha256);
        Assert.Equal(2, pair.ClientSent.Count(m => m.Message[0] == (byte)TlsHandshakeType.ClientHello));
        Assert.True(pair.ServerSent[0].Message.AsSpan(6, 32).SequenceEqual(TlsServerHello.HelloRetryRequestRandom));
        Assert.False(pair.ServerSent[1].Message.AsSpan(6, 32).SequenceEqual(TlsServerHello.HelloRetryRequestRandom));
    }

    [Fact]
    public void HelloRetryRequest_with_a_sha384_suite_keeps_transcripts_in_step()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp384r1], suites: [CipherSuite.Aes256GcmSha384]),
            TlsPair.ServerConfig(groups: [TlsNamedGroup.Secp384r1]));
        pair.ChunkSize = 7;
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes256GcmSha384);
    }

    [Fact]
    public void Server_accepts_a_usable_share_even_if_it_prefers_another_group()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(groups: [TlsNamedGroup.Secp256r1]),
            TlsPair.ServerConfig(groups: [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1]));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes128GcmSha256);
        Assert.Equal(1, pair.ClientSent.Count(m => m.Message[0] == (byte)TlsHandshakeType.ClientHello));
    }

    [Fact]
    public void No_common_group_fails_with_handshake_failure()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(groups: [TlsNamedGroup.X25519]),
            TlsPair.ServerConfig(groups: [TlsNamedGroup.Secp384r1]));

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.HandshakeFailure, error);
        Assert.Equal("server", pair.FailedSide);
    }

    [Fact]
    public void Alpn_mismatch_fails_with_no_application_protocol()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(alpn: ["h3"]), TlsPair.ServerConfig(alpn: ["connet"]));

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.NoApplicationProtocol, error);
        Assert.Equal("server", pair.FailedSide);
    }

    [Fact]
    public void Tampered_server_finished_fails_with_decrypt_error()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.Finished ? Flip(message, message.Length - 1) : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.DecryptError, error);
        Assert.Equal("client", pair.FailedSide);
    }

    [Fact]
    public void Tampered_client_finished_fails_with_decrypt_error()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => fromClient && message[0] == (byte)TlsHandshakeType.Finished ? Flip(message, 4) : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.DecryptError, error);
        Assert.Equal("server", pair.FailedSide);
        Assert.False(pair.Server.IsHandshakeComplete);
    }

    [Fact]
    public void Tampered_certificate_verify_fails_with_decrypt_error()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.CertificateVerify ? Flip(message, message.Length - 3) : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.DecryptError, error);
        Assert.Equal("client", pair.FailedSide);
        Assert.Null(pair.Client.PeerCertificate);
    }

    [Fact]
    public void Tampered_server_hello_key_share_breaks_the_handshake_keys()
    {
        // The harness does not encrypt, so the client still reads the server's flight; the altered ServerHello gives it
        // other secrets and another transcript, which the server's CertificateVerify signature no longer matches.
        using var pair = new TlsPair(TlsPair.ClientConfig(groups: [TlsNamedGroup.X25519]), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.ServerHello ? Flip(message, message.Length - 5) : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);

        AssertAlert(TlsAlert.DecryptError, error);
        Assert.True(pair.Client.TryTakeSecrets(out TlsSecrets clientHandshake));
        Assert.NotEqual(clientHandshake.ServerSecret, pair.ServerSecrets[0].ServerSecret);
    }

    [Fact]
    public void Data_at_the_wrong_level_is_an_unexpected_message()
    {
        using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(() => server.HandleCryptoData(EncryptionLevel.Handshake, [20, 0, 0, 32]));
        AssertAlert(TlsAlert.UnexpectedMessage, error);
    }

    [Fact]
    public void A_message_out_of_order_is_an_unexpected_message()
    {
        using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);
        byte[] finished = [20, 0, 0, 32, .. new byte[32]];

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(() => server.HandleCryptoData(EncryptionLevel.Initial, finished));
        AssertAlert(TlsAlert.UnexpectedMessage, error);
    }

    [Fact]
    public void Client_ignores_new_session_tickets_after_the_handshake()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig());
        pair.Drive();

        pair.Client.HandleCryptoData(EncryptionLevel.OneRtt, [4, 0, 0, 3, 1, 2, 3]);
        QuicProtocolException error = Assert.Throws<QuicProtocolException>(() => pair.Client.HandleCryptoData(EncryptionLevel.OneRtt, [24, 0, 0, 1, 0]));
        AssertAlert(TlsAlert.UnexpectedMessage, error);
    }

    [Fact]
    public void Encrypted_extensions_without_transport_parameters_fail_with_missing_extension()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.EncryptedExtensions
                ? [8, 0, 0, 15, 0, 13, 0, 16, 0, 9, 0, 7, 6, .. "connet"u8]
                : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.MissingExtension, error);
        Assert.Equal("client", pair.FailedSide);
    }

    [Fact]
    public void Encrypted_extensions_without_alpn_fail_with_no_application_protocol()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.EncryptedExtensions
                ? [8, 0, 0, 6, 0, 4, 0, 57, 0, 0]
                : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.NoApplicationProtocol, error);
    }

    [Fact]
    public void Encrypted_extensions_selecting_an_unoffered_protocol_is_illegal()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) => !fromClient && message[0] == (byte)TlsHandshakeType.EncryptedExtensions
                ? [8, 0, 0, 15, 0, 13, 0, 16, 0, 5, 0, 3, 2, .. "h3"u8, 0, 57, 0, 0]
                : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.IllegalParameter, error);
    }

    internal static void AssertAlert(byte alert, QuicProtocolException error) =>
        Assert.Equal((TransportErrorCode)(0x100UL + alert), error.Code);

    internal static void AssertCompleted(TlsPair pair, CipherSuite suite, string alpn = "connet")
    {
        Assert.True(pair.Client.IsHandshakeComplete);
        Assert.True(pair.Server.IsHandshakeComplete);
        Assert.Equal(suite, pair.Client.NegotiatedCipherSuite);
        Assert.Equal(suite, pair.Server.NegotiatedCipherSuite);
        Assert.Equal([EncryptionLevel.Handshake, EncryptionLevel.OneRtt], pair.ClientSecrets.Select(s => s.Level));
        Assert.Equal([EncryptionLevel.Handshake, EncryptionLevel.OneRtt], pair.ServerSecrets.Select(s => s.Level));
        for (int i = 0; i < 2; i++)
        {
            TlsSecrets client = pair.ClientSecrets[i];
            TlsSecrets server = pair.ServerSecrets[i];
            Assert.Equal(suite, client.CipherSuite);
            Assert.Equal(suite.HashLength(), client.ClientSecret.Length);
            Assert.Equal(client.ClientSecret, server.ClientSecret);
            Assert.Equal(client.ServerSecret, server.ServerSecret);
            Assert.NotEqual(client.ClientSecret, client.ServerSecret);
        }

        Assert.NotEqual(pair.ClientSecrets[0].ClientSecret, pair.ClientSecrets[1].ClientSecret);
        Assert.Equal(alpn, Encoding.ASCII.GetString(pair.Client.NegotiatedApplicationProtocol.Span));
        Assert.Equal(alpn, Encoding.ASCII.GetString(pair.Server.NegotiatedApplicationProtocol.Span));
        Assert.Equal(TlsPair.ServerParameters, pair.Client.PeerTransportParameters.ToArray());
        Assert.Equal(TlsPair.ClientParameters, pair.Server.PeerTransportParameters.ToArray());
        Assert.Equal("server.example", pair.Server.ServerName);
        Assert.NotNull(pair.Client.PeerCertificate);
        Assert.False(pair.Client.TryTakeOutgoing(out _, out _));
        Assert.False(pair.Server.TryTakeOutgoing(out _, out _));
    }

    internal static byte[] Flip(byte[] message, int index)
    {
        byte[] copy = [.. message];
        copy[index] ^= 0x01;
        return copy;
    }
}
