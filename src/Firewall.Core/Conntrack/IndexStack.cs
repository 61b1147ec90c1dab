namespace Firewall.Core.Conntrack;

/// <summary>
/// A lock-free stack of indices (a free list) linked through an int array, with an ABA tag in the head word.
/// </summary>
internal sealed class IndexStack
{
    private readonly int[] _next;
    private long _head; // (tag << 32) | (index + 1); 0 = empty

    /// <summary>A stack holding 0 … count-1 (0 on top).</summary>
    public IndexStack(int count)
    {
        _next = new int[count];
        for (int i = 0; i < count; i++) _next[i] = i + 1 < count ? i + 1 : -1;
        _head = count > 0 ? 1 : 0;
    }

    public int Pop()
    {
        while (true)
        {
            long head = Volatile.Read(ref _head);
            int idx = (int)(uint)head - 1;
            if (idx < 0) return -1;
            int next = Volatile.Read(ref _next[idx]);
            long nh = (((head >> 32) + 1) << 32) | (uint)(next + 1);
            if (Interlocked.CompareExchange(ref _head, nh, head) == head) return idx;
        }
    }

    public void Push(int idx)
    {
        while (true)
        {
            long head = Volatile.Read(ref _head);
            _next[idx] = (int)(uint)head - 1;
            long nh = (((head >> 32) + 1) << 32) | (uint)(idx + 1);
            if (Interlocked.CompareExchange(ref _head, nh, head) == head) return;
        }
    }
}
