using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// Checks a certificate against the host name the client asked for (RFC 6125): subjectAltName DNS names (exact or
/// with a single left-most wildcard label, case-insensitive) or IP addresses; the subject CN only when there is no SAN.
/// </summary>
internal static class TlsHostNameMatcher
{
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    public static bool Matches(X509Certificate2 certificate, string host)
    {
        X509SubjectAlternativeNameExtension? san = FindSubjectAlternativeName(certificate);
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return san is not null && san.EnumerateIPAddresses().Any(address.Equals);
        }

        if (san is not null)
        {
            return san.EnumerateDnsNames().Any(pattern => MatchesPattern(pattern, host));
        }

        string commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return commonName.Length > 0 && MatchesPattern(commonName, host);
    }

    public static bool MatchesPattern(string pattern, string host)
    {
        pattern = pattern.TrimEnd('.');
        host = host.TrimEnd('.');
        if (pattern.Length == 0 || host.Length == 0)
        {
            return false;
        }

        if (string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase))
        {
            return !pattern.Contains('*', StringComparison.Ordinal);
        }

        // Only "*.rest" with at least two labels in "rest": "*.com" must not match every .com host.
        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return false;
        }

        string suffix = pattern[1..];
        if (suffix.Contains('*', StringComparison.Ordinal) || suffix.IndexOf('.', 1) < 0)
        {
            return false;
        }

        int firstDot = host.IndexOf('.', StringComparison.Ordinal);
        return firstDot > 0 && string.Equals(host[firstDot..], suffix, StringComparison.OrdinalIgnoreCase);
    }

    private static X509SubjectAlternativeNameExtension? FindSubjectAlternativeName(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == SubjectAlternativeNameOid)
            {
                return extension as X509SubjectAlternativeNameExtension ??
                    new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
            }
        }

        return null;
    }
}
