using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Core.Certificates;

/// <summary>
/// The per-endpoint certificates of connet-protocol.md §2.5: a fresh root, a server leaf named
/// <c>&lt;52 base32 chars&gt;.connet.peer.invalid</c> (EKU serverAuth) and a client leaf (CN connet, EKU clientAuth).
/// Nothing is persisted; peers exchange the leaf DERs through control and pin the exact leaf.
/// </summary>
/// <remarks>
/// Deviation: Go connet uses ed25519 keys. .NET's X509 and SslStream cannot create or use ed25519 certificates, so
/// these are ECDSA P-256. A Go peer will therefore see ECDSA certificates from us (Go's TLS accepts them), and dhxcp
/// key_time signatures are ECDSA made with the server-cert key, which Go peers, expecting ed25519, refuse
/// (see <see cref="Crypto.DhxcpKeyMaterial"/>).
/// Subjects: root CN "connet root" (Go uses "connet" for both root and client; distinct subjects keep chain
/// building from mistaking the client leaf for its issuer), server CN = its DNS name, client CN "connet".
/// </remarks>
public sealed class PeerCertificates : IDisposable
{
    public const string ServerNameSuffix = ".connet.peer.invalid";
    public const string ClientCommonName = "connet";
    public const string RootCommonName = "connet root";

    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    // Go stamps NotBefore with time.Now(); we back-date a little so a peer whose clock is slightly behind accepts us.
    private static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RootLifetime = TimeSpan.FromDays(365 * 100);
    private static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(365 * 2);

    private PeerCertificates(X509Certificate2 root, X509Certificate2 server, X509Certificate2 client, string serverName)
    {
        Root = root;
        Server = server;
        Client = client;
        ServerName = serverName;
        ServerKey = CertificateKey.Compute(server.RawData);
        ClientKey = CertificateKey.Compute(client.RawData);
    }

    /// <summary>The root (public part only: its private key is discarded once both leaves are signed).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Server leaf with its private key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>Client leaf with its private key.</summary>
    public X509Certificate2 Client { get; }

    /// <summary>The server leaf's DNS name, also sent as <c>source_tls.client_name</c>.</summary>
    public string ServerName { get; }

    public string ServerKey { get; }

    public string ClientKey { get; }

    public static PeerCertificates Create(TimeProvider? timeProvider = null)
    {
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        var notBefore = now - ClockSkewAllowance;

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest(new X500DistinguishedName($"CN={RootCommonName}"), rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, critical: false));
        using var rootWithKey = rootRequest.CreateSelfSigned(notBefore, now + RootLifetime);

        var serverName = Base32.Encode(RandomNumberGenerator.GetBytes(32), Base32.StandardAlphabet) + ServerNameSuffix;
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName(serverName);
        var server = CreateLeaf(
            rootWithKey,
            new X500DistinguishedName($"CN={serverName}"),
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.NonRepudiation,
            ServerAuthentication,
            sans.Build(),
            notBefore,
            now + LeafLifetime);
        var client = CreateLeaf(
            rootWithKey,
            new X500DistinguishedName($"CN={ClientCommonName}"),
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.NonRepudiation,
            ClientAuthentication,
            subjectAlternativeNames: null,
            notBefore,
            now + LeafLifetime);

        return new PeerCertificates(X509CertificateLoader.LoadCertificate(rootWithKey.RawData), server, client, serverName);
    }

    /// <summary>
    /// connet's leaf pinning (the peer's exact leaf DER is its only trust anchor): true when <paramref name="presented"/>
    /// is byte-for-byte <paramref name="pinned"/>, is within its validity period at <paramref name="verificationTime"/>
    /// (default now) and carries the EKU <paramref name="purpose"/> (<see cref="ServerAuthentication"/> or
    /// <see cref="ClientAuthentication"/>). Use it from an SslStream certificate validation callback.
    /// </summary>
    /// <remarks>
    /// Go's x509 accepts a chain of one when the leaf itself is in RootCAs. .NET on Linux does not: a non-self-signed
    /// certificate in <see cref="X509ChainPolicy.CustomTrustStore"/> still yields PartialChain. So the pin is the DER
    /// comparison, and the chain is built only to check time and usage, with the unknown-CA status allowed.
    /// </remarks>
    public static bool VerifyPinned(
        X509Certificate2 presented,
        X509Certificate2 pinned,
        Oid purpose,
        out string? failure,
        DateTime? verificationTime = null)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(pinned);
        ArgumentNullException.ThrowIfNull(purpose);
        if (!presented.RawDataMemory.Span.SequenceEqual(pinned.RawDataMemory.Span))
        {
            failure = $"certificate {CertificateKey.Compute(presented.RawData)} is not the pinned {CertificateKey.Compute(pinned.RawData)}";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(pinned);
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(purpose);
        if (verificationTime is { } time)
        {
            chain.ChainPolicy.VerificationTime = time;
        }

        if (!chain.Build(presented))
        {
            failure = string.Join("; ", chain.ChainStatus.Select(status => $"{status.Status}: {status.StatusInformation.Trim()}"));
            return false;
        }

        failure = null;
        return true;
    }

    public void Dispose()
    {
        Root.Dispose();
        Server.Dispose();
        Client.Dispose();
    }

    private static X509Certificate2 CreateLeaf(
        X509Certificate2 issuer,
        X500DistinguishedName subject,
        X509KeyUsageFlags keyUsage,
        Oid extendedKeyUsage,
        X509Extension? subjectAlternativeNames,
        DateTimeOffset notBefore,
        DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([extendedKeyUsage], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (subjectAlternativeNames is not null)
        {
            request.CertificateExtensions.Add(subjectAlternativeNames);
        }

        var serialNumber = RandomNumberGenerator.GetBytes(16);
        serialNumber[0] &= 0x7F; // DER INTEGER: keep it positive, as Go's 128-bit random serial is.
        using var publicOnly = request.Create(issuer, notBefore, notAfter, serialNumber);
        return publicOnly.CopyWithPrivateKey(key);
    }
}
