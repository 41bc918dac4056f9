__version__ = "0.1.0"
"The public API in one import: `from spon_extensions import load_model, SPONTrainer, ...` (modules load on first use)."

_PUBLIC = {  # name -> the module that defines it
    'load_model': 'models', 'load_blocks': 'data', 'magnitude_sparsify': 'sparsify', 'calibrate': 'sparsify',
    'apply_thresholds': 'sparsify', 'uniform_plan': 'sparsify', 'dense_mode': 'sparsify', 'SPONConfig': 'spon',
    'attach_spon': 'spon', 'fold_spon': 'spon', 'save_spon': 'spon', 'load_spon': 'spon', 'TrainingArgs': 'train',
    'SPONTrainer': 'train', 'compute_perplexity': 'evaluate', 'damage_recovered': 'evaluate',
    'agreement_with_dense': 'divergence', 'ExperimentManager': 'results', 'compute_pareto_frontier': 'results',
}
__all__ = list(_PUBLIC)

def __getattr__(name):
    if name not in _PUBLIC: raise AttributeError(f"module 'spon_extensions' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f'.{_PUBLIC[name]}', __name__), name)

def __dir__(): return sorted(list(globals()) + __all__)
