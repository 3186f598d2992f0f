using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Core.Certificates;

/// <summary>
/// How clients and relays trust the control server's certificate (Go connet's <c>server-cas-file</c> /
/// <c>control-cas-file</c> and <c>server-name</c> / <c>control-name</c>).
/// </summary>
public static class ServerCertificateTrust
{
    /// <summary>
    /// With no <paramref name="authorities"/>: the platform's verdict (system trust store and host name), i.e. no
    /// <paramref name="errors"/>. Otherwise the certificate must carry <paramref name="serverName"/> and either be
    /// byte-for-byte one of the authorities (a pinned self-signed certificate) or chain to one of them.
    /// </summary>
    public static bool IsTrusted(X509Certificate? presented, SslPolicyErrors errors, string serverName, X509Certificate2Collection authorities)
    {
        ArgumentNullException.ThrowIfNull(serverName);
        ArgumentNullException.ThrowIfNull(authorities);
        if (presented is not X509Certificate2 certificate)
        {
            return false;
        }

        if (authorities.Count == 0)
        {
            return errors == SslPolicyErrors.None;
        }

        if (!certificate.MatchesHostname(serverName))
        {
            return false;
        }

        if (authorities.Any(trusted => trusted.RawData.AsSpan().SequenceEqual(certificate.RawData)))
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate);
    }
}
