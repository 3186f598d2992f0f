using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Interop;

public sealed class InteropCertificatesTests
{
    [Fact]
    public void LeafChainsToTheAuthorityForLocalhostAndLoopback()
    {
        using var certificates = InteropCertificates.Create();
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificates.Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        Assert.True(chain.Build(certificates.Leaf), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(certificates.Leaf.HasPrivateKey);
        Assert.True(certificates.Leaf.MatchesHostname("localhost"));
        Assert.True(certificates.Leaf.MatchesHostname("127.0.0.1"));
        Assert.False(certificates.Leaf.MatchesHostname("example.com"));
    }

    [Fact]
    public void AuthorityIsACertificateSigningCa()
    {
        using var certificates = InteropCertificates.Create();

        var constraints = certificates.Authority.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        var usage = certificates.Authority.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign));
        Assert.Equal("1.2.840.10045.2.1", certificates.Authority.PublicKey.Oid.Value); // id-ecPublicKey
    }

    [Fact]
    public void PemFilesRoundTripAndDisappearOnDispose()
    {
        var certificates = InteropCertificates.Create();
        string directory;
        using (certificates)
        {
            directory = certificates.DirectoryPath;
            using var fromPem = X509Certificate2.CreateFromPemFile(certificates.LeafCertificatePemPath, certificates.LeafKeyPemPath);
            using var authorityFromPem = X509Certificate2.CreateFromPem(File.ReadAllText(certificates.AuthorityPemPath));

            Assert.Equal(certificates.Leaf.Thumbprint, fromPem.Thumbprint);
            Assert.True(fromPem.HasPrivateKey);
            Assert.Equal(certificates.Authority.Thumbprint, authorityFromPem.Thumbprint);
        }

        Assert.False(Directory.Exists(directory));
    }
}
