using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Tls;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Connet.Quic.Tests.Tls;

public class TlsSignaturesTests
{
    [Fact]
    public void Signed_content_has_the_rfc8446_layout()
    {
        byte[] hash = [1, 2, 3];
        byte[] content = TlsSignatures.SignedContent(server: true, hash);

        Assert.Equal(64 + 33 + 1 + 3, content.Length);
        Assert.All(content.AsSpan(0, 64).ToArray(), b => Assert.Equal(0x20, b));
        Assert.Equal("TLS 1.3, server CertificateVerify", System.Text.Encoding.ASCII.GetString(content, 64, 33));
        Assert.Equal(0, content[97]);
        Assert.Equal(hash, content[98..]);
        Assert.Equal("TLS 1.3, client CertificateVerify", System.Text.Encoding.ASCII.GetString(TlsSignatures.SignedContent(false, hash), 64, 33));
    }

    [Fact]
    public void Ed25519_certificate_verify_signatures_are_checked()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        AsymmetricCipherKeyPair keys = generator.GenerateKeyPair();
        var certificateGenerator = new X509V3CertificateGenerator();
        certificateGenerator.SetSerialNumber(BigInteger.One);
        certificateGenerator.SetIssuerDN(new X509Name("CN=ed25519"));
        certificateGenerator.SetSubjectDN(new X509Name("CN=ed25519"));
        certificateGenerator.SetNotBefore(DateTime.UtcNow.AddDays(-1));
        certificateGenerator.SetNotAfter(DateTime.UtcNow.AddDays(1));
        certificateGenerator.SetPublicKey(keys.Public);
        byte[] der = certificateGenerator.Generate(new Asn1SignatureFactory("Ed25519", keys.Private)).GetEncoded();
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);

        byte[] content = TlsSignatures.SignedContent(server: true, SHA256.HashData("transcript"u8));
        var signer = new Ed25519Signer();
        signer.Init(true, keys.Private);
        signer.BlockUpdate(content, 0, content.Length);
        byte[] signature = signer.GenerateSignature();

        Assert.True(TlsSignatures.Verify(certificate, TlsSignatureScheme.Ed25519, content, signature));
        Assert.False(TlsSignatures.Verify(certificate, TlsSignatureScheme.EcdsaSecp256r1Sha256, content, signature));
        signature[0] ^= 1;
        Assert.False(TlsSignatures.Verify(certificate, TlsSignatureScheme.Ed25519, content, signature));
    }

    [Fact]
    public void Scheme_must_fit_the_certificate_key()
    {
        byte[] content = TlsSignatures.SignedContent(server: true, new byte[32]);
        byte[] signature = TlsSignatures.Sign(TestCertificates.ServerP256, TlsSignatureScheme.EcdsaSecp256r1Sha256, content);

        Assert.True(TlsSignatures.Verify(TestCertificates.ServerP256, TlsSignatureScheme.EcdsaSecp256r1Sha256, content, signature));
        Assert.False(TlsSignatures.Verify(TestCertificates.ServerP256, TlsSignatureScheme.EcdsaSecp384r1Sha384, content, signature));
        Assert.False(TlsSignatures.Verify(TestCertificates.ServerP256, TlsSignatureScheme.RsaPssRsaeSha256, content, signature));
        Assert.Null(TlsSignatures.ChooseScheme(TestCertificates.ServerP256, [(ushort)TlsSignatureScheme.RsaPssRsaeSha256]));
        Assert.Equal(TlsSignatureScheme.RsaPssRsaeSha384, TlsSignatures.ChooseScheme(TestCertificates.ServerRsa, [0x0805, 0x0403]));
    }
}
