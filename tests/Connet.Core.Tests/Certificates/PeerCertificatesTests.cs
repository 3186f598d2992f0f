using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Connet.Core.Certificates;

namespace Connet.Core.Tests.Certificates;

public sealed partial class PeerCertificatesTests
{
    [Fact]
    public void Certificate_key_of_abc_is_base32hex_of_the_rfc7693_vector()
    {
        // RFC 7693 Appendix B: BLAKE2s-256("abc") = 508c5e8c...86675982. Its base32hex (RFC 4648 §7, lowercase,
        // unpadded) was computed separately with Python's base64.b32hexencode.
        Assert.Equal("a265t31ifgae5od75ehktqq55srkb2p0jrb3kaadj6dkp1j7b610", CertificateKey.Compute("abc"u8));
    }

    [Fact]
    public void Base32hex_formatting_matches_rfc4648_vectors()
    {
        // RFC 4648 §10 BASE32-HEX vectors, lowercased and without padding.
        Assert.Equal("", Base32.Encode([], Base32.HexAlphabet));
        Assert.Equal("co", Base32.Encode("f"u8, Base32.HexAlphabet));
        Assert.Equal("cpng", Base32.Encode("fo"u8, Base32.HexAlphabet));
        Assert.Equal("cpnmu", Base32.Encode("foo"u8, Base32.HexAlphabet));
        Assert.Equal("cpnmuog", Base32.Encode("foob"u8, Base32.HexAlphabet));
        Assert.Equal("cpnmuoj1", Base32.Encode("fooba"u8, Base32.HexAlphabet));
        Assert.Equal("cpnmuoj1e8", Base32.Encode("foobar"u8, Base32.HexAlphabet));
        Assert.Equal("mzxw6ytboi", Base32.Encode("foobar"u8, Base32.StandardAlphabet));
    }

    [Fact]
    public void Leaves_have_connet_names_and_usages()
    {
        using var certificates = PeerCertificates.Create();

        Assert.Matches(ServerNamePattern(), certificates.ServerName);
        Assert.Equal(certificates.ServerName, certificates.Server.GetNameInfo(X509NameType.DnsName, forIssuer: false));
        var sans = certificates.Server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal([certificates.ServerName], sans.EnumerateDnsNames().ToArray());
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], ExtendedKeyUsages(certificates.Server));

        Assert.Equal("CN=connet", certificates.Client.Subject);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], ExtendedKeyUsages(certificates.Client));

        Assert.Equal(3, new[] { certificates.Root.Subject, certificates.Server.Subject, certificates.Client.Subject }.Distinct().Count());
        Assert.Equal(certificates.Root.Subject, certificates.Server.Issuer);
        Assert.Equal(certificates.Root.Subject, certificates.Client.Issuer);
        Assert.True(certificates.Root.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.False(certificates.Root.HasPrivateKey);

        foreach (var leaf in new[] { certificates.Server, certificates.Client })
        {
            Assert.Equal("1.2.840.10045.2.1", leaf.PublicKey.Oid.Value); // id-ecPublicKey
            Assert.True(leaf.HasPrivateKey);
            using var key = leaf.GetECDsaPrivateKey()!;
            Assert.Equal(256, key.KeySize);
            var signature = key.SignData("connet"u8, HashAlgorithmName.SHA256);
            using var publicKey = leaf.GetECDsaPublicKey()!;
            Assert.True(publicKey.VerifyData("connet"u8, signature, HashAlgorithmName.SHA256));
        }
    }

    [Fact]
    public void Each_endpoint_gets_fresh_certificates_and_keys()
    {
        using var first = PeerCertificates.Create();
        using var second = PeerCertificates.Create();

        Assert.NotEqual(first.ServerName, second.ServerName);
        Assert.NotEqual(first.ServerKey, second.ServerKey);
        Assert.NotEqual(first.Root.RawData, second.Root.RawData);
        Assert.Equal(CertificateKey.Compute(first.Server.RawData), first.ServerKey);
        Assert.Equal(CertificateKey.Compute(first.Client.RawData), first.ClientKey);
        Assert.Matches(CertificateKeyPattern(), first.ClientKey);
    }

    [Fact]
    public void Pinned_leaf_validates_for_its_own_purpose()
    {
        using var certificates = PeerCertificates.Create();

        Assert.True(PeerCertificates.VerifyPinned(certificates.Server, certificates.Server, PeerCertificates.ServerAuthentication, out var serverFailure), serverFailure);
        Assert.True(PeerCertificates.VerifyPinned(certificates.Client, certificates.Client, PeerCertificates.ClientAuthentication, out var clientFailure), clientFailure);

        // The DER alone, as exchanged through control, pins just as well.
        using var fromDer = X509CertificateLoader.LoadCertificate(certificates.Server.RawData);
        Assert.True(PeerCertificates.VerifyPinned(fromDer, fromDer, PeerCertificates.ServerAuthentication, out _));
    }

    [Fact]
    public void Pinning_rejects_other_leaves_wrong_purposes_and_expired_leaves()
    {
        using var certificates = PeerCertificates.Create();
        using var other = PeerCertificates.Create();

        Assert.False(PeerCertificates.VerifyPinned(other.Server, certificates.Server, PeerCertificates.ServerAuthentication, out var otherFailure));
        Assert.Contains("not the pinned", otherFailure, StringComparison.Ordinal);
        Assert.False(PeerCertificates.VerifyPinned(certificates.Client, certificates.Server, PeerCertificates.ServerAuthentication, out _));

        // A client leaf presented as a server fails on its EKU.
        Assert.False(PeerCertificates.VerifyPinned(certificates.Client, certificates.Client, PeerCertificates.ServerAuthentication, out var usageFailure));
        Assert.Contains("NotValidForUsage", usageFailure, StringComparison.Ordinal);

        // Leaves live two years.
        Assert.False(PeerCertificates.VerifyPinned(
            certificates.Server, certificates.Server, PeerCertificates.ServerAuthentication, out var timeFailure, DateTime.UtcNow.AddYears(3)));
        Assert.Contains("NotTimeValid", timeFailure, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_custom_root_trust_of_the_leaf_is_a_partial_chain_on_linux()
    {
        // Documents why VerifyPinned compares DER instead of trusting the leaf as a custom root (see its remarks).
        using var certificates = PeerCertificates.Create();
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificates.Server);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        Assert.False(chain.Build(certificates.Server));
        Assert.Contains(chain.ChainStatus, status => status.Status == X509ChainStatusFlags.PartialChain);
    }

    private static string[] ExtendedKeyUsages(X509Certificate2 certificate)
        => certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages
            .Cast<Oid>().Select(oid => oid.Value!).ToArray();

    [GeneratedRegex("^[a-z2-7]{52}\\.connet\\.peer\\.invalid$")]
    private static partial Regex ServerNamePattern();

    [GeneratedRegex("^[0-9a-v]{52}$")]
    private static partial Regex CertificateKeyPattern();
}
