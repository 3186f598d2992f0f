namespace Connet.Core.Protocol;

/// <summary>
/// The framing of connet messages, chosen by the negotiated ALPN (see <see cref="ConnetAlpns"/>):
/// a big-endian fixed-width length prefix followed by the protobuf bytes.
/// </summary>
public enum WireVersion
{
    /// <summary>Go connet ≤ 0.15.3 (legacy ALPNs): 8-byte (uint64) length prefix.</summary>
    Legacy = 1,

    /// <summary>Go connet's new ALPNs: 4-byte (uint32) length prefix.</summary>
    Current = 2,
}
