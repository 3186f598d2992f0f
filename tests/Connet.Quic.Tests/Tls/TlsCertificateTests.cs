using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Tls;
using static Connet.Quic.Tests.Tls.TlsHandshakeTests;

namespace Connet.Quic.Tests.Tls;

public class TlsCertificateTests
{
    public static TheoryData<string> ServerKeys => ["P256", "P384", "RSA"];

    [Theory]
    [MemberData(nameof(ServerKeys))]
    public void Server_signs_with_its_certificates_key_type(string key)
    {
        X509Certificate2 certificate = key switch
        {
            "P256" => TestCertificates.ServerP256,
            "P384" => TestCertificates.ServerP384,
            _ => TestCertificates.ServerRsa,
        };
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig(certificate));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes128GcmSha256);
        Assert.Equal(certificate.Thumbprint, pair.Client.PeerCertificate!.Thumbprint);
        ushort scheme = (ushort)((pair.ServerSent.Single(m => m.Message[0] == (byte)TlsHandshakeType.CertificateVerify).Message[4] << 8) |
            pair.ServerSent.Single(m => m.Message[0] == (byte)TlsHandshakeType.CertificateVerify).Message[5]);
        ushort expected = key switch { "P256" => 0x0403, "P384" => 0x0503, _ => 0x0804 };
        Assert.Equal(expected, scheme);
    }

    [Fact]
    public void Mutual_tls_with_pinned_self_signed_certificates_succeeds()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(policy: TestCertificates.Pin(TestCertificates.ServerP256), clientCertificate: TestCertificates.Client),
            TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Client)));
        pair.Drive();

        AssertCompleted(pair, CipherSuite.Aes128GcmSha256);
        Assert.Equal(TestCertificates.ServerP256.Thumbprint, pair.Client.PeerCertificate!.Thumbprint);
        Assert.Equal(TestCertificates.Client.Thumbprint, pair.Server.PeerCertificate!.Thumbprint);
    }

    [Fact]
    public void Client_certificate_context_and_selection_callback_are_used()
    {
        var clientOptions = TlsPair.ClientConfig(policy: TestCertificates.Pin(TestCertificates.ServerP256));
        clientOptions.Authentication.LocalCertificateSelectionCallback = (_, host, _, remote, _) =>
        {
            Assert.Equal("server.example", host);
            Assert.NotNull(remote);
            return TestCertificates.Client;
        };
        using var pair = new TlsPair(
            clientOptions,
            TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Client)));
        pair.Drive();

        Assert.Equal(TestCertificates.Client.Thumbprint, pair.Server.PeerCertificate!.Thumbprint);
    }

    [Fact]
    public void Server_certificate_selection_callback_sees_the_sni()
    {
        string? seen = null;
        TlsServerConfig serverConfig = TlsPair.ServerConfig();
        serverConfig.Authentication.ServerCertificate = null;
        serverConfig.Authentication.ServerCertificateSelectionCallback = (_, name) =>
        {
            seen = name;
            return TestCertificates.ServerP384;
        };
        using var pair = new TlsPair(TlsPair.ClientConfig(), serverConfig);
        pair.Drive();

        Assert.Equal("server.example", seen);
        Assert.Equal(TestCertificates.ServerP384.Thumbprint, pair.Client.PeerCertificate!.Thumbprint);
    }

    [Fact]
    public void Ca_issued_chain_from_a_certificate_context_validates_through_the_intermediate()
    {
        using var rootKey = System.Security.Cryptography.ECDsa.Create();
        var rootRequest = new CertificateRequest("CN=Test Root", rootKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(30));

        using var intermediateKey = System.Security.Cryptography.ECDsa.Create();
        var intermediateRequest = new CertificateRequest("CN=Test Intermediate", intermediateKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 intermediatePublic = intermediateRequest.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), [1, 2]);
        using X509Certificate2 intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        var leafKey = System.Security.Cryptography.ECDsa.Create();
        var leafRequest = new CertificateRequest("CN=leaf", leafKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("*.example.net");
        leafRequest.CertificateExtensions.Add(san.Build());
        using X509Certificate2 leafPublic = leafRequest.Create(intermediate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [3, 4]);
        using X509Certificate2 leaf = leafPublic.CopyWithPrivateKey(leafKey);

        TlsServerConfig serverConfig = TlsPair.ServerConfig();
        serverConfig.Authentication.ServerCertificate = null;
        serverConfig.Authentication.ServerCertificateContext = SslStreamCertificateContext.Create(leaf, [intermediate], offline: true);
        using var pair = new TlsPair(TlsPair.ClientConfig(targetHost: "quic.example.net", policy: TestCertificates.Pin(root)), serverConfig);
        pair.Drive();

        Assert.True(pair.Client.IsHandshakeComplete);
        Assert.Equal(leaf.Thumbprint, pair.Client.PeerCertificate!.Thumbprint);

        // Without the intermediate the client cannot reach the pinned root.
        TlsServerConfig leafOnly = TlsPair.ServerConfig(leaf);
        using var broken = new TlsPair(TlsPair.ClientConfig(targetHost: "quic.example.net", policy: TestCertificates.Pin(root)), leafOnly);
        QuicProtocolException error = Assert.Throws<QuicProtocolException>(broken.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
    }

    [Fact]
    public void Server_without_a_private_key_fails_with_internal_error()
    {
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(TestCertificates.ServerP256.RawData);
        using var pair = new TlsPair(TlsPair.ClientConfig(), TlsPair.ServerConfig(publicOnly));

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.InternalError, error);
    }

    [Fact]
    public void Wrong_server_pin_is_rejected_by_the_client_with_bad_certificate()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(policy: TestCertificates.Pin(TestCertificates.Impostor)), TlsPair.ServerConfig());

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
        Assert.Equal("client", pair.FailedSide);
        Assert.Contains("server certificate for 'server.example' is not trusted: chain error", error.Reason, StringComparison.Ordinal);
        Assert.False(pair.Client.IsHandshakeComplete);
    }

    [Fact]
    public void Wrong_client_pin_is_rejected_by_the_server_with_bad_certificate()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(clientCertificate: TestCertificates.Client),
            TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Impostor)));

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
        Assert.Equal("server", pair.FailedSide);
        Assert.Contains("client certificate is not trusted", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_client_certificate_fails_with_certificate_required()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(),
            TlsPair.ServerConfig(requireClientCertificate: true, clientPolicy: TestCertificates.Pin(TestCertificates.Client)));

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.CertificateRequired, error);
        Assert.Equal("server", pair.FailedSide);
    }

    [Fact]
    public void Validation_callback_returning_false_rejects_a_trusted_server()
    {
        SslPolicyErrors? seen = null;
        using var pair = new TlsPair(
            TlsPair.ClientConfig(callback: (_, _, _, errors) =>
            {
                seen = errors;
                return false;
            }),
            TlsPair.ServerConfig());

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
        Assert.Equal(SslPolicyErrors.None, seen);
        Assert.Contains("RemoteCertificateValidationCallback", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throwing_validation_callback_fails_the_handshake_with_bad_certificate()
    {
        using var pair = new TlsPair(
            TlsPair.ClientConfig(callback: (_, _, _, _) => throw new InvalidOperationException("boom")),
            TlsPair.ServerConfig());

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
        Assert.Contains("boom", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_callback_sees_a_name_mismatch_and_may_accept_it()
    {
        SslPolicyErrors? seen = null;
        object sender = new();
        TlsClientConfig clientConfig = TlsPair.ClientConfig(targetHost: "other.example", callback: (s, certificate, chain, errors) =>
        {
            Assert.Same(sender, s);
            Assert.NotNull(chain);
            Assert.Equal(TestCertificates.ServerP256.Thumbprint, ((X509Certificate2)certificate!).Thumbprint);
            seen = errors;
            return errors == SslPolicyErrors.RemoteCertificateNameMismatch;
        });
        clientConfig.CallbackSender = sender;
        using var pair = new TlsPair(clientConfig, TlsPair.ServerConfig());
        pair.Drive();

        Assert.True(pair.Client.IsHandshakeComplete);
        Assert.Equal(SslPolicyErrors.RemoteCertificateNameMismatch, seen);
        Assert.Equal("other.example", pair.Server.ServerName);
    }

    [Fact]
    public void Name_mismatch_without_a_callback_is_rejected()
    {
        using var pair = new TlsPair(TlsPair.ClientConfig(targetHost: "other.example"), TlsPair.ServerConfig());

        QuicProtocolException error = Assert.Throws<QuicProtocolException>(pair.Drive);
        AssertAlert(TlsAlert.BadCertificate, error);
        Assert.Contains("name mismatch", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("chain error", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Untrusted_self_signed_server_under_system_trust_reports_chain_errors()
    {
        SslPolicyErrors? seen = null;
        TlsClientConfig clientConfig = TlsPair.ClientConfig(callback: (_, _, _, errors) =>
        {
            seen = errors;
            return false;
        });
        clientConfig.Authentication.CertificateChainPolicy = null;
        using var pair = new TlsPair(clientConfig, TlsPair.ServerConfig());

        Assert.Throws<QuicProtocolException>(pair.Drive);
        Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors, seen);
    }

    [Theory]
    [InlineData("server.example", "server.example", true)]
    [InlineData("Server.Example", "server.EXAMPLE.", true)]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "A.EXAMPLE.COM", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("*.com", "example.com", false)]
    [InlineData("a*.example.com", "ab.example.com", false)]
    [InlineData("*.example.com", ".example.com", false)]
    [InlineData("server.example", "server.example.evil", false)]
    public void Host_name_patterns_match_like_rfc6125(string pattern, string host, bool expected) =>
        Assert.Equal(expected, TlsHostNameMatcher.MatchesPattern(pattern, host));

    [Fact]
    public void Ip_literal_matches_san_ip_addresses_only()
    {
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=10.0.0.1", System.Security.Cryptography.ECDsa.Create(), System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Parse("10.0.0.1"));
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.True(TlsHostNameMatcher.Matches(certificate, "10.0.0.1"));
        Assert.False(TlsHostNameMatcher.Matches(certificate, "10.0.0.2"));
        Assert.False(TlsHostNameMatcher.Matches(TestCertificates.ServerP256, "10.0.0.1"));
        Assert.True(TlsHostNameMatcher.Matches(TestCertificates.ServerP256, "server.example"));
    }
}
