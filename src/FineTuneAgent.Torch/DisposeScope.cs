namespace FineTuneAgent.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope, and
/// disposes them when it is disposed, except those moved out (<see cref="MoveToOuter"/>) or
/// detached. Mirrors TorchSharp's DisposeScope. Open one per training step or message; never
/// hold one across an await, since scopes belong to a thread.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? _current;

    private readonly HashSet<IDisposable> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal DisposeScope()
    {
        Outer = _current;
        _current = this;
    }

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static DisposeScope? Current => _current;

    /// <summary>The scope that was current when this one opened.</summary>
    public DisposeScope? Outer { get; }

    public int Count => _owned.Count;

    internal void Register(torch.Tensor tensor)
    {
        _owned.Add(tensor);
        tensor.OwningScope = this;
    }

    internal void Forget(torch.Tensor tensor) => _owned.Remove(tensor);

    /// <summary>Hands the tensors to the enclosing scope (or to nobody, if there is none).</summary>
    public T MoveToOuter<T>(T tensor) where T : torch.Tensor
    {
        Forget(tensor);
        tensor.OwningScope = null;
        Outer?.Register(tensor);
        return tensor;
    }

    public void MoveToOuter(IEnumerable<torch.Tensor> tensors)
    {
        foreach (var t in tensors)
            MoveToOuter(t);
    }

    /// <summary>Takes the tensors out of every scope: the caller disposes them.</summary>
    public T Detach<T>(T tensor) where T : torch.Tensor
    {
        Forget(tensor);
        tensor.OwningScope = null;
        return tensor;
    }

    /// <summary>Adds tensors created elsewhere to this scope.</summary>
    public T Include<T>(T tensor) where T : torch.Tensor
    {
        tensor.OwningScope?.Forget(tensor);
        Register(tensor);
        return tensor;
    }

    /// <summary>Disposes everything this scope holds except the given tensors, which stay in it.</summary>
    public void DisposeEverythingBut(params torch.Tensor[] keep)
    {
        var keepSet = new HashSet<torch.Tensor>(keep, ReferenceEqualityComparer.Instance);
        foreach (var d in _owned.ToArray())
        {
            if (d is torch.Tensor t && keepSet.Contains(t))
                continue;
            _owned.Remove(d);
            if (d is torch.Tensor tensor)
                tensor.OwningScope = null;
            d.Dispose();
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("a DisposeScope must be disposed on the thread that opened it");
        _disposed = true;
        if (_current == this)
            _current = Outer;
        foreach (var d in _owned)
        {
            if (d is torch.Tensor t)
                t.OwningScope = null;
            d.Dispose();
        }
        _owned.Clear();
    }
}
