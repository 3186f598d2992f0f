using Connet.Quic.Core;
using Connet.Quic.Core.Tls;
using static Connet.Quic.Tests.Tls.TlsHandshakeTests;

namespace Connet.Quic.Tests.Tls;

public class TlsHostileInputTests
{
    private const ushort TransportParametersExtension = 57;
    private const ushort AlpnExtension = 16;
    private const ushort SupportedVersionsExtension = 43;
    private const ushort KeyShareExtension = 51;

    [Fact]
    public void ClientHello_without_transport_parameters_fails_with_missing_extension()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => extensions.Where(e => e.Type != TransportParametersExtension));

        AssertAlert(TlsAlert.MissingExtension, FeedServer(hello));
    }

    [Fact]
    public void ClientHello_without_alpn_fails_with_no_application_protocol()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => extensions.Where(e => e.Type != AlpnExtension));

        AssertAlert(TlsAlert.NoApplicationProtocol, FeedServer(hello));
    }

    [Fact]
    public void ClientHello_without_tls13_fails_with_protocol_version()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => extensions.Select(e => e.Type == SupportedVersionsExtension ? (e.Type, new byte[] { 2, 3, 3 }) : e));

        AssertAlert(TlsAlert.ProtocolVersion, FeedServer(hello));
    }

    [Fact]
    public void Duplicate_extension_fails_with_illegal_parameter()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => [.. extensions, extensions[0]]);

        AssertAlert(TlsAlert.IllegalParameter, FeedServer(hello));
    }

    [Fact]
    public void Unknown_extensions_are_ignored()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => [(0xfafa, [1, 2, 3]), .. extensions, (0x1234, [])]);
        using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);

        server.HandleCryptoData(EncryptionLevel.Initial, hello);

        Assert.True(server.TryTakeOutgoing(out EncryptionLevel level, out byte[] serverHello));
        Assert.Equal(EncryptionLevel.Initial, level);
        Assert.Equal((byte)TlsHandshakeType.ServerHello, serverHello[0]);
        Assert.True(server.TryTakeSecrets(out TlsSecrets secrets));
        Assert.Equal(EncryptionLevel.Handshake, secrets.Level);
    }

    [Fact]
    public void Invalid_p256_point_fails_with_illegal_parameter()
    {
        byte[] hello = ClientHelloEditor.Edit(extensions => extensions.Select(e =>
        {
            if (e.Type != KeyShareExtension)
            {
                return e;
            }

            // One P-256 share whose point (x = 1, y = 1) is not on the curve.
            byte[] point = new byte[65];
            point[0] = 4;
            point[32] = 1;
            point[64] = 1;
            return (e.Type, [0, 69, 0, 0x17, 0, 65, .. point]);
        }));

        AssertAlert(TlsAlert.IllegalParameter, FeedServer(hello));
    }

    [Fact]
    public void Legacy_session_id_is_a_protocol_violation()
    {
        (byte[] prefix, List<(ushort Type, byte[] Body)> extensions) = ClientHelloEditor.Split(ClientHelloEditor.RealClientHello());
        byte[] withSessionId = [.. prefix[..34], 4, 1, 2, 3, 4, .. prefix[35..]];

        QuicProtocolException error = FeedServer(ClientHelloEditor.Join(withSessionId, extensions));
        Assert.Equal(TransportErrorCode.ProtocolViolation, error.Code);
    }

    [Fact]
    public void Oversized_message_length_is_rejected_before_buffering()
    {
        AssertAlert(TlsAlert.DecodeError, FeedServer([1, 0x01, 0x00, 0x01]));
        AssertAlert(TlsAlert.DecodeError, FeedServer([1, 0xff, 0xff, 0xff]));
    }

    [Fact]
    public void Truncated_client_hellos_fail_with_decode_error()
    {
        byte[] hello = ClientHelloEditor.RealClientHello();
        for (int length = 0; length < hello.Length - 4; length += 3)
        {
            byte[] truncated = [1, (byte)(length >> 16), (byte)(length >> 8), (byte)length, .. hello.AsSpan(4, length)];
            QuicProtocolException error = FeedServer(truncated);
            Assert.True(
                error.Code is (TransportErrorCode)(0x100 + TlsAlert.DecodeError) or (TransportErrorCode)(0x100 + TlsAlert.ProtocolVersion),
                $"length {length}: {error.Message}");
        }
    }

    [Fact]
    public void Mutated_client_hellos_only_raise_protocol_errors()
    {
        byte[] hello = ClientHelloEditor.RealClientHello();
        var random = new Random(1234);
        int failures = 0;
        for (int i = 0; i < 300; i++)
        {
            byte[] mutated = [.. hello];
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                mutated[4 + random.Next(mutated.Length - 4)] ^= (byte)(1 + random.Next(255));
            }

            using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);
            try
            {
                server.HandleCryptoData(EncryptionLevel.Initial, mutated);
            }
            catch (QuicProtocolException)
            {
                failures++;
            }
        }

        Assert.InRange(failures, 1, 300);
    }

    [Fact]
    public void Random_bytes_only_raise_protocol_errors_on_either_side()
    {
        var random = new Random(42);
        for (int i = 0; i < 300; i++)
        {
            byte[] data = new byte[random.Next(2, 200)];
            random.NextBytes(data);
            if (i % 2 == 0)
            {
                data[0] = (byte)(i % 4 == 0 ? 1 : 2);
                data[1] = 0;
            }

            using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);
            using ITlsSession client = TlsSession.CreateClient(TlsPair.ClientConfig(), [1]);
            client.Start();
            foreach (ITlsSession session in new[] { server, client })
            {
                try
                {
                    session.HandleCryptoData(EncryptionLevel.Initial, data);
                }
                catch (QuicProtocolException)
                {
                }
            }
        }
    }

    [Fact]
    public void Mutated_server_flights_only_raise_protocol_errors()
    {
        var random = new Random(7);
        for (int i = 0; i < 150; i++)
        {
            int target = i % 6;
            using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
            {
                Tamper = (fromClient, _, message) =>
                {
                    if (fromClient || message[0] != new byte[] { 2, 8, 11, 15, 20, 2 }[target])
                    {
                        return message;
                    }

                    byte[] copy = [.. message];
                    copy[4 + random.Next(copy.Length - 4)] ^= (byte)(1 + random.Next(255));
                    return copy;
                },
            };
            try
            {
                pair.Drive();
            }
            catch (QuicProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Mutated_client_flights_only_raise_protocol_errors()
    {
        var random = new Random(11);
        for (int i = 0; i < 60; i++)
        {
            byte target = (i % 3) switch { 0 => (byte)TlsHandshakeType.Certificate, 1 => (byte)TlsHandshakeType.CertificateVerify, _ => (byte)TlsHandshakeType.Finished };
            using var pair = new TlsPair(
                TlsPair.ClientConfig(clientCertificate: TestCertificates.Client),
                TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Client)))
            {
                Tamper = (fromClient, _, message) =>
                {
                    if (!fromClient || message[0] != target)
                    {
                        return message;
                    }

                    byte[] copy = [.. message];
                    copy[4 + random.Next(copy.Length - 4)] ^= (byte)(1 + random.Next(255));
                    return copy;
                },
            };

            QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
            Assert.Equal("server", pair.FailedSide);
            Assert.False(pair.Server.IsHandshakeComplete);
            Assert.NotEqual(TransportErrorCode.InternalError, error.Code);
        }
    }

    [Fact]
    public void Truncated_server_hello_fails_on_the_client()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig())
        {
            Tamper = (fromClient, _, message) =>
                !fromClient && message[0] == (byte)TlsHandshakeType.ServerHello ? [2, 0, 0, 40, .. message.AsSpan(4, 40)] : message,
        };

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.DecodeError, error);
        Assert.Equal("client", pair.FailedSide);
    }

    [Fact]
    public void A_failed_session_keeps_failing()
    {
        using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);
        Assert.Throws<QuicProtocolException>(() => server.HandleCryptoData(EncryptionLevel.Initial, [20, 0, 0, 0]));

        Assert.Throws<QuicProtocolException>(() => server.HandleCryptoData(EncryptionLevel.Initial, ClientHelloEditor.RealClientHello()));
    }

    private static QuicProtocolException FeedServer(byte[] data)
    {
        using ITlsSession server = TlsSession.CreateServer(TlsPair.ServerConfig(), [1]);
        return Assert.Throws<QuicProtocolException>(() => server.HandleCryptoData(EncryptionLevel.Initial, data));
    }
}
