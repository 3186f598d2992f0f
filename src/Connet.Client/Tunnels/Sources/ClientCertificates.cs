using System.Security.Cryptography.X509Certificates;

namespace Connet.Client.Tunnels.Sources;

/// <summary>
/// Mutual TLS on a source listener (Go connet's source <c>cas-file</c>): a client certificate is accepted when its
/// chain ends in one of the configured authorities (a self-signed certificate listed there is its own authority).
/// Revocation is not checked: the authorities are the operator's own, usually without a CRL or OCSP endpoint.
/// </summary>
internal static class ClientCertificates
{
    public static bool IsTrusted(X509Certificate2Collection authorities, X509Certificate? presented)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        if (presented is null || authorities.Count == 0)
        {
            return false;
        }

        X509Certificate2 certificate = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
        return chain.Build(certificate);
    }
}
