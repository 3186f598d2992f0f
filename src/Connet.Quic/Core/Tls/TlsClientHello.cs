using System.Text;
using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>A ClientHello (RFC 8446 §4.1.2) with the extensions a QUIC server acts on already decoded and checked.</summary>
internal sealed class TlsClientHello
{
    public const ushort Tls12Version = 0x0303;
    public const ushort Tls13Version = 0x0304;
    private const int MaxHostNameLength = 255;

    public byte[] Random { get; init; } = [];

    public int LegacySessionIdLength { get; init; }

    public List<ushort> CipherSuites { get; init; } = [];

    public TlsExtensions Extensions { get; init; } = new();

    public List<ushort> SupportedVersions { get; init; } = [];

    public List<ushort> SupportedGroups { get; init; } = [];

    /// <summary>Key shares in the client's order; group code points are unique.</summary>
    public List<(ushort Group, byte[] KeyExchange)> KeyShares { get; init; } = [];

    public List<ushort> SignatureAlgorithms { get; init; } = [];

    public string? ServerName { get; init; }

    public List<byte[]> ApplicationProtocols { get; init; } = [];

    public bool HasApplicationProtocols { get; init; }

    public byte[]? TransportParameters { get; init; }

    public byte[]? Cookie { get; init; }

    /// <summary>Parses a ClientHello body (the bytes after the 4-byte handshake header).</summary>
    public static TlsClientHello Parse(ReadOnlyMemory<byte> body)
    {
        var reader = new SpanReader(body.Span);
        ushort legacyVersion = reader.ReadUInt16("ClientHello version");
        byte[] random = reader.ReadBytes(32, "ClientHello random").ToArray();
        int sessionIdLength = reader.ReadVector(1, 0, 32, "ClientHello legacy_session_id").Length;
        List<ushort> cipherSuites = reader.ReadUInt16List(2, 2, "ClientHello cipher_suites");
        ReadOnlySpan<byte> compression = reader.ReadVector(1, 1, 255, "ClientHello compression methods");
        TlsExtensions extensions = TlsExtensions.Read(ref reader, body, "ClientHello");
        reader.ExpectEnd("ClientHello");

        if (legacyVersion != Tls12Version)
        {
            throw TlsAlert.Error(TlsAlert.ProtocolVersion, $"ClientHello legacy_version 0x{legacyVersion:x4} is not 0x0303.");
        }

        if (compression.Length != 1 || compression[0] != 0)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "TLS 1.3 ClientHello must offer only the null compression method.");
        }

        var supportedVersions = new List<ushort>();
        if (extensions.TryGet(TlsExtensionType.SupportedVersions, out ReadOnlyMemory<byte> versionsBody))
        {
            var r = new SpanReader(versionsBody.Span);
            supportedVersions = r.ReadUInt16List(1, 2, "supported_versions");
            r.ExpectEnd("supported_versions");
        }

        var groups = new List<ushort>();
        if (extensions.TryGet(TlsExtensionType.SupportedGroups, out ReadOnlyMemory<byte> groupsBody))
        {
            var r = new SpanReader(groupsBody.Span);
            groups = r.ReadUInt16List(2, 2, "supported_groups");
            r.ExpectEnd("supported_groups");
        }

        var keyShares = new List<(ushort, byte[])>();
        if (extensions.TryGet(TlsExtensionType.KeyShare, out ReadOnlyMemory<byte> sharesBody))
        {
            var r = new SpanReader(sharesBody.Span);
            var shares = new SpanReader(r.ReadVector(2, 0, ushort.MaxValue, "key_share client_shares"));
            r.ExpectEnd("key_share");
            while (!shares.IsEmpty)
            {
                ushort group = shares.ReadUInt16("key_share group");
                byte[] key = shares.ReadVector(2, 1, ushort.MaxValue, "key_share key_exchange").ToArray();
                if (keyShares.Exists(share => share.Item1 == group))
                {
                    throw TlsAlert.Error(TlsAlert.IllegalParameter, $"ClientHello has two key shares for group 0x{group:x4}.");
                }

                if (!groups.Contains(group))
                {
                    throw TlsAlert.Error(TlsAlert.IllegalParameter, $"ClientHello key share for group 0x{group:x4} is not in supported_groups.");
                }

                keyShares.Add((group, key));
            }
        }

        var signatureAlgorithms = new List<ushort>();
        if (extensions.TryGet(TlsExtensionType.SignatureAlgorithms, out ReadOnlyMemory<byte> sigBody))
        {
            var r = new SpanReader(sigBody.Span);
            signatureAlgorithms = r.ReadUInt16List(2, 2, "signature_algorithms");
            r.ExpectEnd("signature_algorithms");
        }

        string? serverName = null;
        if (extensions.TryGet(TlsExtensionType.ServerName, out ReadOnlyMemory<byte> sniBody))
        {
            serverName = ParseServerName(sniBody.Span);
        }

        var protocols = new List<byte[]>();
        bool hasProtocols = extensions.TryGet(TlsExtensionType.ApplicationLayerProtocolNegotiation, out ReadOnlyMemory<byte> alpnBody);
        if (hasProtocols)
        {
            protocols = ParseProtocolList(alpnBody.Span);
        }

        byte[]? transportParameters = extensions.TryGet(TlsExtensionType.QuicTransportParameters, out ReadOnlyMemory<byte> tpBody)
            ? tpBody.ToArray()
            : null;

        byte[]? cookie = null;
        if (extensions.TryGet(TlsExtensionType.Cookie, out ReadOnlyMemory<byte> cookieBody))
        {
            var r = new SpanReader(cookieBody.Span);
            cookie = r.ReadVector(2, 1, ushort.MaxValue, "cookie").ToArray();
            r.ExpectEnd("cookie");
        }

        return new TlsClientHello
        {
            Random = random,
            LegacySessionIdLength = sessionIdLength,
            CipherSuites = cipherSuites,
            Extensions = extensions,
            SupportedVersions = supportedVersions,
            SupportedGroups = groups,
            KeyShares = keyShares,
            SignatureAlgorithms = signatureAlgorithms,
            ServerName = serverName,
            ApplicationProtocols = protocols,
            HasApplicationProtocols = hasProtocols,
            TransportParameters = transportParameters,
            Cookie = cookie,
        };
    }

    /// <summary>protocol_name_list: 2-byte length, then non-empty 1-byte-length names (RFC 7301 §3.1).</summary>
    public static List<byte[]> ParseProtocolList(ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        var list = new SpanReader(reader.ReadVector(2, 2, ushort.MaxValue, "ALPN protocol_name_list"));
        reader.ExpectEnd("ALPN extension");
        var protocols = new List<byte[]>();
        while (!list.IsEmpty)
        {
            protocols.Add(list.ReadVector(1, 1, 255, "ALPN protocol name").ToArray());
        }

        return protocols;
    }

    private static string? ParseServerName(ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        var list = new SpanReader(reader.ReadVector(2, 1, ushort.MaxValue, "server_name list"));
        reader.ExpectEnd("server_name extension");
        string? hostName = null;
        while (!list.IsEmpty)
        {
            byte nameType = list.ReadUInt8("server_name type");
            ReadOnlySpan<byte> name = list.ReadVector(2, 1, ushort.MaxValue, "server_name host_name");
            if (nameType != 0)
            {
                continue;
            }

            if (hostName is not null)
            {
                throw TlsAlert.Error(TlsAlert.IllegalParameter, "server_name lists more than one host_name.");
            }

            if (name.Length > MaxHostNameLength || name.ContainsAnyExceptInRange((byte)0x21, (byte)0x7e))
            {
                throw TlsAlert.Error(TlsAlert.IllegalParameter, "server_name host_name is not a valid DNS name.");
            }

            hostName = Encoding.ASCII.GetString(name);
        }

        return hostName;
    }

    /// <summary>Encodes a client's ClientHello message (header included).</summary>
    public static byte[] Encode(
        ReadOnlySpan<byte> random,
        IReadOnlyList<Crypto.CipherSuite> cipherSuites,
        string? serverName,
        IReadOnlyList<TlsNamedGroup> groups,
        TlsKeyShare keyShare,
        IReadOnlyList<ReadOnlyMemory<byte>> applicationProtocols,
        ReadOnlySpan<byte> transportParameters,
        ReadOnlySpan<byte> cookie)
    {
        int protocolBytes = applicationProtocols.Sum(p => p.Length + 1);
        byte[] buffer = new byte[1024 + (serverName?.Length ?? 0) + keyShare.PublicKey.Length + protocolBytes + transportParameters.Length + cookie.Length];
        var w = new SpanWriter(buffer);
        TlsVectorMark message = w.BeginMessage(TlsHandshakeType.ClientHello);
        w.WriteUInt16(Tls12Version);
        w.WriteBytes(random);
        w.WriteByte(0); // legacy_session_id: QUIC forbids middlebox compatibility mode (RFC 9001 §8.4).
        TlsVectorMark suites = w.BeginVector(2);
        foreach (Crypto.CipherSuite suite in cipherSuites)
        {
            w.WriteUInt16((ushort)suite);
        }

        w.EndVector(suites);
        w.WriteByte(1);
        w.WriteByte(0);

        TlsVectorMark extensions = w.BeginVector(2);
        if (serverName is not null)
        {
            TlsVectorMark sni = w.BeginExtension(TlsExtensionType.ServerName);
            TlsVectorMark list = w.BeginVector(2);
            w.WriteByte(0);
            w.WriteVector(2, Encoding.ASCII.GetBytes(serverName));
            w.EndVector(list);
            w.EndVector(sni);
        }

        TlsVectorMark versions = w.BeginExtension(TlsExtensionType.SupportedVersions);
        w.WriteByte(2);
        w.WriteUInt16(Tls13Version);
        w.EndVector(versions);

        TlsVectorMark groupsExtension = w.BeginExtension(TlsExtensionType.SupportedGroups);
        TlsVectorMark groupList = w.BeginVector(2);
        foreach (TlsNamedGroup group in groups)
        {
            w.WriteUInt16((ushort)group);
        }

        w.EndVector(groupList);
        w.EndVector(groupsExtension);

        TlsVectorMark shareExtension = w.BeginExtension(TlsExtensionType.KeyShare);
        TlsVectorMark shares = w.BeginVector(2);
        w.WriteUInt16((ushort)keyShare.Group);
        w.WriteVector(2, keyShare.PublicKey);
        w.EndVector(shares);
        w.EndVector(shareExtension);

        TlsVectorMark sigExtension = w.BeginExtension(TlsExtensionType.SignatureAlgorithms);
        TlsVectorMark sigList = w.BeginVector(2);
        foreach (TlsSignatureScheme scheme in TlsSignatures.VerifiableSchemes)
        {
            w.WriteUInt16((ushort)scheme);
        }

        w.EndVector(sigList);
        w.EndVector(sigExtension);

        TlsVectorMark alpn = w.BeginExtension(TlsExtensionType.ApplicationLayerProtocolNegotiation);
        TlsVectorMark alpnList = w.BeginVector(2);
        foreach (ReadOnlyMemory<byte> protocol in applicationProtocols)
        {
            w.WriteVector(1, protocol.Span);
        }

        w.EndVector(alpnList);
        w.EndVector(alpn);

        TlsVectorMark tp = w.BeginExtension(TlsExtensionType.QuicTransportParameters);
        w.WriteBytes(transportParameters);
        w.EndVector(tp);

        if (!cookie.IsEmpty)
        {
            TlsVectorMark cookieExtension = w.BeginExtension(TlsExtensionType.Cookie);
            w.WriteVector(2, cookie);
            w.EndVector(cookieExtension);
        }

        w.EndVector(extensions);
        w.EndVector(message);
        return buffer.AsSpan(0, w.Position).ToArray();
    }
}
