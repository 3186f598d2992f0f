namespace Connet.Quic.Core.Crypto;

/// <summary>Sizes shared by every header protection algorithm (RFC 9001 §5.4).</summary>
internal static class HeaderProtectionMask
{
    /// <summary>One byte for the first header byte plus up to four packet number bytes.</summary>
    public const int Length = 5;

    /// <summary>Bytes of ciphertext sampled, starting four bytes after the packet number starts.</summary>
    public const int SampleLength = 16;
}
